import { DynamicModule, Module } from '@nestjs/common';
import { loadConfig } from '@choreo/config';
import { LivePageController, LIVE_PAGE_SETTINGS } from './live-page.controller';
import { livePageConfig } from './live-page.config';
import { pageDirCandidates, PageFiles } from './page-files';

/**
 * Serves the live page (apps/notifications/web, built into dist/live-page) at `/`. Reads its own
 * settings (LIVE_PAGE_*), validated when the app starts.
 */
@Module({})
export class LivePageModule {
  static fromEnv(env: NodeJS.ProcessEnv = process.env): DynamicModule {
    const { livePage } = loadConfig({ livePage: livePageConfig }, env);
    return {
      module: LivePageModule,
      controllers: [LivePageController],
      providers: [
        { provide: LIVE_PAGE_SETTINGS, useValue: livePage },
        { provide: PageFiles, useValue: new PageFiles(pageDirCandidates(livePage.dir, __dirname)) },
      ],
    };
  }
}
