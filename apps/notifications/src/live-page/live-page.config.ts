import { z } from 'zod';
import { configSlice, DEV_API_TOKEN, urlWithScheme } from '@choreo/config';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Where the live page's bundle is and which public APIs it calls. */
export const livePageConfig = configSlice(
  () => ({
    LIVE_PAGE_DIR: z
      .string()
      .min(1)
      .optional()
      .describe('directory of the built page (default: dist/live-page, built by npm run build)'),
    LIVE_PAGE_CRUD_URL: urlWithScheme('http', 'https')
      .optional()
      .describe("public URL of the crud app the page reads the menu from (default: the page's own origin)"),
    LIVE_PAGE_EVENTS_URL: urlWithScheme('http', 'https')
      .optional()
      .describe("public URL of the events app the page places orders with (default: the page's own origin)"),
    LIVE_PAGE_OFFER_DEV_TOKEN: flag
      .default(false)
      .describe('true: hand the page the development API token (npm start does; never in production)'),
    NODE_ENV: z.string().optional(),
  }),
  (env) => ({
    dir: env.LIVE_PAGE_DIR,
    crudUrl: env.LIVE_PAGE_CRUD_URL,
    eventsUrl: env.LIVE_PAGE_EVENTS_URL,
    // Only the well-known development token, and never in production: no real secret reaches a page.
    devToken: env.LIVE_PAGE_OFFER_DEV_TOKEN && env.NODE_ENV !== 'production' ? DEV_API_TOKEN : undefined,
  }),
);

export type LivePageSettings = ReturnType<typeof livePageConfig.build>;
