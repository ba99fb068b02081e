import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryInput, nextPageLink } from '@choreo/entities';
import { BearerAuthGuard, etagOf, parseIfMatch } from '@choreo/http';
import { JsonBodyGuard } from '@choreo/runtime';
import { EntityRow } from '@choreo/persistence';
import { CrudService } from './crud.service';

/**
 * The raw query string, repeated keys as arrays. Read from the URL rather than `req.query` so a
 * bracket syntax (`a[b]=c`) stays a plain, unknown key whatever query parser the platform is set to.
 */
function queryOf(request: FastifyRequest): QueryInput {
  const query: Record<string, string | string[]> = {};
  const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  for (const [key, value] of new URLSearchParams(search)) {
    const previous = query[key];
    query[key] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
}

function withEtag(reply: FastifyReply, row: EntityRow): EntityRow {
  void reply.header('ETag', etagOf(row));
  return row;
}

/** REST over every declared entity: /crud/:entity[/:id], /crud/:entity/queries/:name. */
@Controller('crud')
@UseGuards(BearerAuthGuard, JsonBodyGuard)
export class CrudController {
  constructor(private readonly crud: CrudService) {}

  @Get(':entity')
  async list(
    @Param('entity') entity: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const query = queryOf(request);
    const page = await this.crud.list(entity, query);
    // The body stays a plain array; the next page is a Link header (RFC 8288), as GitHub's API does.
    if (page.nextCursor !== undefined) {
      void reply.header('Link', nextPageLink(`/crud/${entity}`, query, page.nextCursor));
    }
    return page.rows;
  }

  @Get(':entity/queries/:name')
  runQuery(@Param('entity') entity: string, @Param('name') name: string, @Req() request: FastifyRequest) {
    return this.crud.runQuery(entity, name, queryOf(request));
  }

  @Get(':entity/:id')
  async get(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return withEtag(response, await this.crud.get(entity, id));
  }

  @Post(':entity')
  @HttpCode(201)
  async create(
    @Param('entity') entity: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const created = await this.crud.create(entity, body);
    if (Array.isArray(created)) return created;
    const id = String(created[this.crud.primaryKeyOf(entity)]);
    void response.header('Location', `/crud/${entity}/${encodeURIComponent(id)}`);
    return withEtag(response, created);
  }

  @Patch(':entity/:id')
  async update(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Body() patch: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return withEtag(response, await this.crud.update(entity, id, patch, parseIfMatch(ifMatch)));
  }

  @Delete(':entity/:id')
  @HttpCode(204)
  async remove(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.crud.remove(entity, id, parseIfMatch(ifMatch));
  }
}
