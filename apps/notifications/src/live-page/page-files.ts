import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface PageFile {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** Where the built page is looked for: the configured directory, else dist/live-page beside the code. */
export function pageDirCandidates(configured: string | undefined, codeDir: string): string[] {
  if (configured) return [path.resolve(configured)];
  // From source (apps/notifications/src/live-page) the repository is four levels up; compiled
  // (dist/apps/notifications/src/live-page) dist/ is.
  const up = path.resolve(codeDir, '../../../..');
  return [path.join(up, 'dist/live-page'), path.join(up, 'live-page')];
}

/**
 * The built page held in memory: `index.html` and the hashed files of `assets/`. Only the names the
 * build produced are served, so no request path reaches the file system. Loaded on first use and
 * again while it is missing, so a build that finishes after the app started is picked up.
 */
export class PageFiles {
  private files: Map<string, PageFile> | undefined;

  constructor(private readonly candidates: string[]) {}

  /** The directory looked in, for the message when the page is not built. */
  get where(): string {
    return this.candidates.join(' or ');
  }

  index(): PageFile | undefined {
    return this.load()?.get('index.html');
  }

  asset(name: string): PageFile | undefined {
    return this.load()?.get(`assets/${name}`);
  }

  private load(): Map<string, PageFile> | undefined {
    if (this.files) return this.files;
    const dir = this.candidates.find((candidate) => existsSync(path.join(candidate, 'index.html')));
    if (!dir) return undefined;
    const files = new Map<string, PageFile>();
    const add = (relative: string) =>
      files.set(relative, {
        body: readFileSync(path.join(dir, relative)),
        type: TYPES[path.extname(relative)] ?? 'application/octet-stream',
      });
    add('index.html');
    const assets = path.join(dir, 'assets');
    if (existsSync(assets)) for (const name of readdirSync(assets)) add(`assets/${name}`);
    this.files = files;
    return files;
  }
}
