import { ConfigError, loadConfig, redisConfig } from '@choreo/config';
import { createRedis } from '@choreo/redis';
import { DeadLetter, DeadLetterStore } from '@choreo/streams';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readStackFile, stackDataDir, stackFilePath } from '../stack/stack-file';

export const DLQ_USAGE = `Usage: npm run dlq -- <command> [options]

Inspect and act on the dead-letters stream. Redis: REDIS_URL when set, else the Redis of the stack
\`npm start\` runs here (found through .data/stack.json, or STACK_DATA_DIR), else redis://127.0.0.1:6379.

Commands:
  list      a table of dead letters: id, stream, type, attempts, error, failed at
  show      every field of one dead letter (--id), data pretty-printed
  replay    re-publish to the original stream, keeping the event id, and remove the dead letter
            (--id ID, or --all, optionally narrowed by --stream)
  purge     delete dead letters (--id ID, or --all [--stream S]); needs --yes

Options:
  --stream S   only dead letters that came from stream S
  --id ID      one dead letter, by its id in dead-letters (the first column of list)
  --all        every dead letter (narrowed by --stream)
  --count N    list at most N (default 100)
  --yes        confirm purge
  -h, --help   this text

The raw view is always available too: redis-cli XRANGE dead-letters - +`;

/** Where the command writes; the CLI passes the process streams, tests capture the lines. */
export interface DlqOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Where the dlq command finds Redis, and how it found it (said when Redis cannot be reached). */
export interface DlqRedis {
  url: string;
  source: string;
}

/**
 * The Redis URL through libs/config, like every app: REDIS_URL, else the running local stack's
 * (`npm start` writes it to .data/stack.json), else redis://127.0.0.1:6379. Throws ConfigError.
 */
export function dlqRedis(env: NodeJS.ProcessEnv = process.env): DlqRedis {
  const dataDir = stackDataDir(env);
  const stack = env['REDIS_URL'] ? undefined : readStackFile(dataDir);
  const source = env['REDIS_URL']
    ? 'REDIS_URL'
    : stack
      ? `the stack npm start runs (${path.relative(process.cwd(), stackFilePath(dataDir)) || stackFilePath(dataDir)})`
      : 'the default; set REDIS_URL or run npm start';
  const { redis } = loadConfig(
    { redis: redisConfig },
    { ...env, REDIS_URL: env['REDIS_URL'] || stack?.redisUrl || 'redis://127.0.0.1:6379' },
  );
  return { url: redis.url, source };
}

/** Runs one dlq command; resolves to the process exit code (0 ok, 1 refused or failed, 2 usage). */
export async function runDlq(argv: readonly string[], output: DlqOutput, redisUrl?: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        stream: { type: 'string' },
        id: { type: 'string' },
        all: { type: 'boolean', default: false },
        count: { type: 'string', default: '100' },
        yes: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    output.err(`${(error as Error).message}\n\n${DLQ_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (values.help || command === undefined) {
    (values.help ? output.out : output.err)(DLQ_USAGE);
    return values.help ? 0 : 2;
  }
  if (!['list', 'show', 'replay', 'purge'].includes(command) || positionals.length > 1) {
    output.err(`unknown command: ${positionals.join(' ')}\n\n${DLQ_USAGE}`);
    return 2;
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) {
    output.err(`--count must be a positive integer, got ${values.count}`);
    return 2;
  }

  let target: DlqRedis;
  try {
    target = redisUrl === undefined ? dlqRedis() : { url: redisUrl, source: 'the caller' };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.err(`dlq: ${error.message}`);
    return 1;
  }
  const redis = createRedis(target.url, 'cli', { connectionName: 'choreo:dlq' });
  redis.on('error', () => undefined);
  try {
    await redis.connect().catch((error: Error) => {
      throw new Error(`cannot reach Redis at ${target.url} (from ${target.source}): ${error.message}`);
    });
    const store = new DeadLetterStore(redis);
    switch (command) {
      case 'list':
        return await list(store, values.stream, count, output);
      case 'show':
        return await show(store, values.id, output);
      case 'replay':
        return await replay(store, values, output);
      default:
        return await purge(store, values, output);
    }
  } catch (error) {
    output.err(`dlq ${command} failed: ${(error as Error).message}`);
    return 1;
  } finally {
    redis.disconnect();
  }
}

interface Selection {
  stream?: string;
  id?: string;
  all: boolean;
  yes: boolean;
}

async function list(store: DeadLetterStore, stream: string | undefined, count: number, output: DlqOutput) {
  const deadLetters = await store.list({ originStream: stream, count });
  if (deadLetters.length === 0) {
    output.out(stream ? `no dead letters from ${stream}` : 'no dead letters');
    return 0;
  }
  const rows = deadLetters.map((d) => [
    d.id,
    d.fields['dlq_stream'] ?? '',
    d.fields['type'] ?? '',
    d.fields['dlq_attempts'] ?? '',
    oneLine(d.fields['dlq_error'] ?? '', 60),
    d.fields['dlq_failed_at'] ?? '',
  ]);
  for (const line of table(['ID', 'STREAM', 'TYPE', 'ATTEMPTS', 'ERROR', 'FAILED AT'], rows))
    output.out(line);
  return 0;
}

async function show(store: DeadLetterStore, id: string | undefined, output: DlqOutput) {
  if (!id) {
    output.err('show needs --id (the first column of `dlq list`)');
    return 2;
  }
  const deadLetter = await store.show(id);
  if (!deadLetter) {
    output.err(`no dead letter ${id}`);
    return 1;
  }
  output.out(`dead letter ${deadLetter.id}`);
  const width = Math.max(...Object.keys(deadLetter.fields).map((name) => name.length));
  for (const [name, value] of Object.entries(deadLetter.fields)) {
    if (name === 'data')
      output.out(`${name.padEnd(width)}  ${prettyJson(value).replace(/\n/g, `\n${' '.repeat(width + 2)}`)}`);
    else output.out(`${name.padEnd(width)}  ${value}`);
  }
  return 0;
}

async function select(store: DeadLetterStore, selection: Selection, verb: string, output: DlqOutput) {
  if (selection.id && selection.all) {
    output.err(`${verb}: give --id or --all, not both`);
    return undefined;
  }
  if (selection.id) {
    const one = await store.show(selection.id);
    if (!one) output.err(`no dead letter ${selection.id}`);
    return one ? [one] : undefined;
  }
  if (selection.all) return store.list({ originStream: selection.stream, count: Number.MAX_SAFE_INTEGER });
  output.err(`${verb} needs --id ID or --all (optionally with --stream S)`);
  return undefined;
}

async function replay(store: DeadLetterStore, selection: Selection, output: DlqOutput) {
  const chosen = await select(store, selection, 'replay', output);
  if (!chosen) return selection.id || selection.all ? 1 : 2;
  for (const deadLetter of chosen) {
    const entryId = await store.replay(deadLetter.id);
    if (entryId)
      output.out(
        `replayed ${deadLetter.id} → ${deadLetter.fields['dlq_stream']} ${entryId} (event ${deadLetter.fields['id'] ?? '?'})`,
      );
  }
  output.out(`${chosen.length} replayed`);
  return 0;
}

async function purge(store: DeadLetterStore, selection: Selection, output: DlqOutput) {
  const chosen: DeadLetter[] | undefined = await select(store, selection, 'purge', output);
  if (!chosen) return selection.id || selection.all ? 1 : 2;
  if (!selection.yes) {
    output.err(`purge would delete ${chosen.length} dead letter(s) for good; re-run with --yes to confirm`);
    return 1;
  }
  const deleted = await store.purge(chosen.map((d) => d.id));
  output.out(`${deleted} purged`);
  return 0;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // An undecodable entry's data is shown as it is: that is usually why it is here.
    return text;
  }
}
