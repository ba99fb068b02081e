import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { LivePageSettings } from './live-page.config';
import { PageFile, PageFiles } from './page-files';

export const LIVE_PAGE_SETTINGS = Symbol('LIVE_PAGE_SETTINGS');

/**
 * The live page: `/` (index.html), its hashed `assets/`, and `live-page/config.json`, which tells
 * the page where the public APIs are. The page itself holds no secret: it asks for the API token.
 */
@Controller()
export class LivePageController {
  constructor(
    private readonly files: PageFiles,
    @Inject(LIVE_PAGE_SETTINGS) private readonly settings: LivePageSettings,
  ) {}

  @Get()
  index(@Res() reply: FastifyReply): void {
    const index = this.files.index();
    if (!index) {
      void reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send(`the live page is not built: run \`npm run build\` (looked in ${this.files.where})\n`);
      return;
    }
    send(reply, index, 'no-cache');
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): void {
    const file = this.files.asset(name);
    if (!file) throw new NotFoundException(`no asset ${name}`);
    // Vite names every asset by its content hash: a name never changes meaning.
    send(reply, file, 'public, max-age=31536000, immutable');
  }

  @Get('live-page/config.json')
  config() {
    return {
      crud_url: this.settings.crudUrl ?? null,
      events_url: this.settings.eventsUrl ?? null,
      ...(this.settings.devToken ? { dev_token: this.settings.devToken } : {}),
    };
  }
}

function send(reply: FastifyReply, file: PageFile, cacheControl: string): void {
  void reply.type(file.type).header('Cache-Control', cacheControl).send(file.body);
}
