import type Redis from 'ioredis';
import { BACKOFF, backoffDelayMs, createRedis } from '@choreo/streams';
import { Pool, PoolClient } from 'pg';
import { Registry } from 'prom-client';
import { DecodedMessage, PgoutputDecoder } from './pgoutput-decoder';
import { formatLsn, parseLsn } from './position';
import { ReplicationConnection, ReplicationFrame } from './replication-connection';
import {
  HEARTBEAT_PREFIX,
  OUTBOX_PREFIX,
  outboxEvent,
  RelayEvent,
  rowChangeEvent,
  TransactionContext,
  transactionContext,
  truncateEvent,
} from './relay-events';
import { RelayMetrics } from './relay-metrics';
import {
  confirmedFlushLsn,
  prepareReplication,
  primaryKeys,
  PublicationOptions,
  syncPublication,
} from './relay-setup';
import { appendNewer, loadAppendScript, packBatch } from './stream-appender';

/** Where log lines go; Nest's Logger and pino both fit. */
export interface RelayLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface CdcRelayOptions extends PublicationOptions {
  databaseUrl: string;
  redisUrl: string;
  /** How often the relay writes its heartbeat message into the WAL. */
  heartbeatIntervalMs: number;
  /** How often standby status (the confirmed LSN) is sent when it moved; also the walsender's keepalive. */
  statusIntervalMs: number;
  /** Events held before they are appended, even in the middle of a transaction. */
  chunkEvents: number;
  /** Replication frames held before the socket is paused. */
  maxQueuedFrames: number;
  /** In `auto` table mode, how often new REPLICA IDENTITY FULL tables are added to the publication. */
  tableRefreshMs: number;
  registry: Registry;
  logger?: RelayLogger;
}

export type RelayState = 'idle' | 'streaming' | 'reconnecting' | 'stopped';

interface AppendInFlight {
  done: Promise<void>;
  /** Confirmable once this batch and all before it are held by Redis. */
  commitEnd: bigint;
  settled: boolean;
}

/** The last batch sent to a stream: the next one must not land before it. */
interface SentBatch {
  position: string;
  done: Promise<void>;
}

interface OpenTransaction extends TransactionContext {
  ordinal: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const backoff = (attempt: number) => backoffDelayMs(attempt + 1, BACKOFF.relaySession);

/** Batches sent to Redis and not yet acknowledged, at most (bounded memory, ordered confirms). */
const MAX_APPENDS_IN_FLIGHT = 8;

const silent: RelayLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * PostgreSQL WAL (pgoutput) to Redis Streams, exactly once.
 *
 * Every event carries its position (commit LSN, ordinal in the transaction). Events are appended in
 * batches by a Lua script per stream that skips what the stream's high-water mark says it holds,
 * and the LSN confirmed to the slot only moves past a transaction once all of it is in Redis. So a
 * crash anywhere replays from the last confirmed LSN and the marks drop what was already appended.
 */
export class CdcRelay {
  private readonly redis: Redis;
  private readonly db: Pool;
  private readonly metrics: RelayMetrics;
  private readonly logger: RelayLogger;
  private currentState: RelayState = 'idle';
  private stopping = false;
  private session: ReplicationConnection | undefined;
  private running: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private keys = new Map<number, string[]>();
  private standbySnapshots = true;

  // Per session: what has been read but is not yet in Redis, and what may be confirmed.
  private pending: RelayEvent[] = [];
  private transaction: OpenTransaction | undefined;
  private lastCommitEnd = 0n;
  private dispatchedCommitEnd = 0n;
  private appendsInFlight: AppendInFlight[] = [];
  private lastSent = new Map<string, SentBatch>();
  private lastCommitTimeMicros = 0n;
  private confirmed = 0n;
  private statusSent = 0n;
  private statusSentAt = 0;

  constructor(private readonly options: CdcRelayOptions) {
    this.logger = options.logger ?? silent;
    this.metrics = new RelayMetrics(options.registry);
    // maxRetriesPerRequest null: while Redis is down an append waits (and so does reading from the
    // slot) instead of failing; a script cut off by a crash is sent again, which the mark makes safe.
    this.redis = createRedis(options.redisUrl, 'worker', {
      lazyConnect: true,
      connectionName: 'choreo:cdc-relay',
    });
    this.redis.on('error', () => undefined);
    // Load the script on every (re)connect, so pipelined batches do not all meet NOSCRIPT.
    this.redis.on('ready', () => void loadAppendScript(this.redis).catch(() => undefined));
    this.db = new Pool({ connectionString: options.databaseUrl, max: 2, application_name: 'cdc-relay' });
    this.db.on('error', () => undefined);
  }

  get state(): RelayState {
    return this.currentState;
  }

  /** The LSN confirmed to PostgreSQL so far (text). */
  get confirmedLsn(): string {
    return formatLsn(this.confirmed);
  }

  /**
   * Runs the start-up checks (throwing CdcSetupError with what to change), creates the publication
   * and slot when missing, then streams in the background until stop(). Lost connections to
   * PostgreSQL or Redis are retried; `state` says whether it is streaming.
   */
  async start(): Promise<void> {
    const client = await this.db.connect();
    try {
      const tables = await prepareReplication(client, this.options);
      this.keys = await primaryKeys(
        client,
        tables.map((t) => t.oid),
      );
      this.logger.log(
        `cdc: publication "${this.options.publication}" with ${tables.length} table(s): ${tables
          .map((t) => t.name)
          .join(', ')}; slot "${this.options.slot}"`,
      );
    } finally {
      client.release();
    }
    await this.redis.connect().catch(() => undefined);
    this.running = this.run();
    this.timers.push(
      setInterval(() => this.sendStatus(false), this.options.statusIntervalMs),
      setInterval(() => void this.heartbeat(), this.options.heartbeatIntervalMs),
    );
    if (this.options.tables === 'auto') {
      this.timers.push(setInterval(() => void this.refreshTables(), this.options.tableRefreshMs));
    }
  }

  /**
   * Stops reading, appends what was read, confirms it to the slot, and closes every connection. If
   * that takes longer than `timeoutMs` (Redis down), it closes anyway: nothing unconfirmed is lost,
   * the next start replays it.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    this.session?.interrupt(new Error('relay stopping'));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const drained = this.running ? await Promise.race([this.running.then(() => true), timedOut]) : true;
    clearTimeout(timer);
    if (!drained) {
      this.redis.disconnect();
      await this.session?.close();
      await this.running;
    }
    this.currentState = 'stopped';
    this.metrics.streaming.set(0);
    this.redis.disconnect();
    await this.db.end();
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      const session = new ReplicationConnection({
        databaseUrl: this.options.databaseUrl,
        slot: this.options.slot,
        publication: this.options.publication,
        maxQueuedFrames: this.options.maxQueuedFrames,
      });
      this.session = session;
      try {
        const confirmed = await this.withDb((db) => confirmedFlushLsn(db, this.options.slot));
        if (confirmed === null) throw new Error(`replication slot "${this.options.slot}" does not exist`);
        this.resetSession(parseLsn(confirmed));
        await session.start();
        this.setState('streaming');
        attempt = 0;
        this.logger.log(`cdc: streaming from ${confirmed}`);
        await this.consume(session);
      } catch (error) {
        if (!this.stopping) this.logger.warn(`cdc: replication interrupted: ${(error as Error).message}`);
      } finally {
        if (!this.stopping) this.setState('reconnecting');
        await session.close();
        // Appends still in flight land (or are abandoned on stop) before a new session replays.
        await this.drainAppends().catch(() => undefined);
      }
      if (!this.stopping) await sleep(backoff(attempt));
    }
  }

  private resetSession(confirmed: bigint): void {
    this.pending = [];
    this.transaction = undefined;
    this.appendsInFlight = [];
    this.lastSent.clear();
    this.lastCommitEnd = confirmed;
    this.dispatchedCommitEnd = confirmed;
    this.confirmed = confirmed;
    this.statusSent = confirmed;
    this.metrics.confirmedLsn.set(Number(confirmed));
  }

  private setState(state: RelayState): void {
    this.currentState = state;
    this.metrics.streaming.set(state === 'streaming' ? 1 : 0);
  }

  private async consume(session: ReplicationConnection): Promise<void> {
    const decoder = new PgoutputDecoder();
    for (;;) {
      let frame: ReplicationFrame;
      try {
        frame = session.poll() ?? (await session.next());
      } catch (error) {
        // Graceful stop: what was read is appended and confirmed before the session goes.
        if (this.stopping) {
          await this.flush();
          await this.drainAppends();
          this.sendStatus(true);
        }
        throw error;
      }
      if (frame.kind === 'keepalive') {
        if (this.idle()) this.confirm(frame.walEnd);
        if (frame.replyRequested) this.sendStatus(true);
      } else {
        const lookup = this.handle(decoder.decode(frame.payload), frame.walStart);
        if (lookup) await lookup;
      }
      // Append when the batch is full, or when nothing more is waiting: batches grow under load
      // and latency stays low when the load is light.
      if (this.pending.length >= this.options.chunkEvents) await this.flush();
      else if (
        !session.hasQueuedFrames() &&
        (this.pending.length > 0 || this.lastCommitEnd > this.dispatchedCommitEnd)
      ) {
        await this.flush();
      }
    }
  }

  /** Everything read so far is held by Redis (so any LSN read so far may be confirmed). */
  private idle(): boolean {
    return this.transaction === undefined && this.pending.length === 0 && this.appendsInFlight.length === 0;
  }

  /** Synchronous except when a new table's primary key must be looked up (returns that promise). */
  private handle(message: DecodedMessage, walStart: bigint): Promise<void> | undefined {
    switch (message.tag) {
      case 'begin':
        this.transaction = {
          ...transactionContext(parseLsn(message.commitLsn ?? '0/0'), message.commitTime as bigint),
          ordinal: 0,
        };
        return;
      case 'relation':
        if (this.keys.has(message.relationOid)) return;
        return this.withDb((db) => primaryKeys(db, [message.relationOid])).then((found) => {
          this.keys.set(message.relationOid, found.get(message.relationOid) ?? []);
        });
      case 'insert':
      case 'update':
      case 'delete': {
        const tx = this.openTransaction();
        this.pending.push(
          rowChangeEvent(message, tx, ++tx.ordinal, this.keys.get(message.relation.relationOid) ?? []),
        );
        return;
      }
      case 'truncate': {
        const tx = this.openTransaction();
        for (const relation of message.relations)
          this.pending.push(truncateEvent(relation, tx, ++tx.ordinal));
        return;
      }
      case 'message':
        if (message.transactional && message.prefix === OUTBOX_PREFIX) {
          const tx = this.openTransaction();
          this.pending.push(outboxEvent(message.content, tx, ++tx.ordinal));
        } else if (!message.transactional && message.prefix === HEARTBEAT_PREFIX) {
          this.heartbeatReceived(message.content, walStart);
        }
        return;
      case 'commit': {
        const tx = this.openTransaction();
        this.transaction = undefined;
        this.lastCommitEnd = parseLsn(message.commitEndLsn ?? '0/0');
        this.lastCommitTimeMicros = tx.commitTimeMicros;
        this.metrics.transactions.inc();
        return;
      }
      default:
        return;
    }
  }

  private openTransaction(): OpenTransaction {
    if (!this.transaction) throw new Error('pgoutput: change outside a transaction');
    return this.transaction;
  }

  /**
   * Sends the pending events to Redis without waiting for them (up to MAX_APPENDS_IN_FLIGHT
   * batches are pipelined, so decoding overlaps Redis' fsync), and confirms each batch's
   * `commitEnd` only once it and every batch before it are in Redis. `commitEnd` covers whole
   * transactions, all of whose events are in this batch or an earlier one.
   */
  private async flush(): Promise<void> {
    const batch = this.pending;
    const commitEnd = this.lastCommitEnd;
    const commitTime = this.lastCommitTimeMicros;
    this.pending = [];
    this.dispatchedCommitEnd = commitEnd;
    const byStream = new Map<string, RelayEvent[]>();
    for (const event of batch) {
      const events = byStream.get(event.stream);
      if (events) events.push(event);
      else byStream.set(event.stream, [event]);
    }
    // Only the packed bytes are held while a batch is in flight: thousands of event objects kept
    // alive across young-generation collections were copied by each of them.
    const appends = [...byStream].map(([stream, events]) => {
      const previous = this.lastSent.get(stream);
      const append = this.appendUntilHeld(stream, packBatch(events), previous);
      this.lastSent.set(stream, { position: events[events.length - 1].position, done: append });
      return append;
    });
    const eventCount = batch.length;
    const entry: AppendInFlight = { done: Promise.resolve(), commitEnd, settled: false };
    entry.done = Promise.all(appends).then(() => {
      entry.settled = true;
      if (commitTime > 0n && eventCount > 0) {
        this.metrics.lagSeconds.set(Math.max(0, Date.now() / 1000 - Number(commitTime) / 1e6));
      }
      this.confirmSettled();
    });
    entry.done.catch(() => undefined); // awaited by drainAppends; this only keeps Node from warning early
    this.appendsInFlight.push(entry);
    while (this.appendsInFlight.length > MAX_APPENDS_IN_FLIGHT) await this.appendsInFlight[0].done;
  }

  /** Confirms, in order, the batches at the head of the queue that Redis has acknowledged. */
  private confirmSettled(): void {
    while (this.appendsInFlight[0]?.settled) {
      const [settled] = this.appendsInFlight.splice(0, 1);
      this.confirm(settled.commitEnd);
    }
  }

  /** Waits until everything sent to Redis is held there, and confirms it. */
  private async drainAppends(): Promise<void> {
    while (this.appendsInFlight.length > 0) await this.appendsInFlight[0].done;
  }

  private async appendUntilHeld(
    stream: string,
    packed: Buffer,
    previous: SentBatch | undefined,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const timer = this.metrics.appendSeconds.startTimer();
      try {
        const { appended, skipped } = await appendNewer(this.redis, stream, packed, previous?.position);
        timer();
        if (appended > 0) this.metrics.events.inc({ stream }, appended);
        if (skipped > 0) {
          this.metrics.duplicatesSkipped.inc({ stream }, skipped);
          this.logger.log(`cdc: ${stream} already held ${skipped} replayed event(s), skipped`);
        }
        return;
      } catch (error) {
        if (this.stopping && attempt > 3) throw error;
        const message = (error as Error).message;
        if (!message.startsWith('GAP'))
          this.logger.warn(`cdc: append to ${stream} failed, retrying: ${message}`);
        await sleep(backoff(attempt));
      }
    }
  }

  private confirm(lsn: bigint): void {
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.metrics.confirmedLsn.set(Number(lsn));
  }

  private sendStatus(force: boolean): void {
    const session = this.session;
    if (!session || this.currentState !== 'streaming' || this.confirmed === 0n) return;
    // Re-send now and then even when unchanged: it is also what keeps wal_sender_timeout away while
    // an append waits for Redis and frames are not being read.
    if (!force && this.confirmed === this.statusSent && Date.now() - this.statusSentAt < 10_000) return;
    session.sendStatus(this.confirmed, false);
    this.statusSent = this.confirmed;
    this.statusSentAt = Date.now();
  }

  /** A non-transactional message in our own database: it makes the walsender send something even
   * when no published table changes, and measures the end-to-end delay of an idle relay. */
  private async heartbeat(): Promise<void> {
    try {
      const { rows } = await this.db.query<{ current: string }>(
        `select pg_logical_emit_message(false, $1, $2)::text as emitted, pg_current_wal_lsn()::text as current`,
        [HEARTBEAT_PREFIX, JSON.stringify({ sentAt: Date.now() })],
      );
      this.metrics.lagBytes.set(Math.max(0, Number(parseLsn(rows[0].current) - this.confirmed)));
      if (this.standbySnapshots) await this.logStandbySnapshot();
    } catch (error) {
      this.logger.warn(`cdc: heartbeat failed: ${(error as Error).message}`);
    }
  }

  /**
   * The slot's restart_lsn (what bounds retained WAL) only moves at a running-transactions record,
   * which PostgreSQL writes every 15 s or at checkpoints; writing one with each heartbeat keeps the
   * retained WAL to about one heartbeat interval of writes. Needs superuser or a GRANT EXECUTE; without
   * it the relay relies on PostgreSQL's own records.
   */
  private async logStandbySnapshot(): Promise<void> {
    try {
      await this.db.query('select pg_log_standby_snapshot()');
    } catch (error) {
      if ((error as { code?: string }).code !== '42501') throw error;
      this.standbySnapshots = false;
      this.logger.log(
        "cdc: not allowed to call pg_log_standby_snapshot(); WAL is released at PostgreSQL's pace",
      );
    }
  }

  private heartbeatReceived(content: Uint8Array, lsn: bigint): void {
    try {
      const { sentAt } = JSON.parse(Buffer.from(content).toString('utf8')) as { sentAt?: number };
      if (typeof sentAt === 'number' && this.idle())
        this.metrics.lagSeconds.set(Math.max(0, (Date.now() - sentAt) / 1000));
    } catch {
      // Another relay version's heartbeat: only its position matters.
    }
    if (this.idle() && this.lastCommitEnd <= this.confirmed) this.confirm(lsn);
  }

  private async withDb<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.db.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }

  private async refreshTables(): Promise<void> {
    const client = await this.db.connect().catch(() => undefined);
    if (!client) return;
    try {
      const before = new Set(this.keys.keys());
      const tables = await syncPublication(client, this.options);
      const added = tables.filter((t) => !before.has(t.oid));
      if (added.length > 0) {
        const keys = await primaryKeys(
          client,
          added.map((t) => t.oid),
        );
        for (const [oid, columns] of keys) this.keys.set(oid, columns);
        this.logger.log(`cdc: publishing new table(s) ${added.map((t) => t.name).join(', ')}`);
      }
    } catch (error) {
      this.logger.error(`cdc: publication refresh failed: ${(error as Error).message}`);
    } finally {
      client.release();
    }
  }
}
