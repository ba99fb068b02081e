import { createRedis } from '@choreo/redis';
import type Redis from 'ioredis';
import { Pool, PoolClient } from 'pg';
import { Registry } from 'prom-client';
import { AppendPipeline, relayBackoffMs, RelayLogger } from './append-pipeline';
import { PgoutputDecoder } from './pgoutput-decoder';
import { formatLsn, parseLsn } from './position';
import { ReplicationConnection, ReplicationFrame } from './replication-connection';
import { RelayHeartbeat } from './relay-heartbeat';
import { RelayMetrics } from './relay-metrics';
import {
  confirmedFlushLsn,
  prepareReplication,
  primaryKeys,
  PublicationOptions,
  syncPublication,
} from './relay-setup';
import { loadAppendScript } from './stream-appender';
import { TransactionAssembly } from './transaction-assembly';

export type { RelayLogger } from './append-pipeline';

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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const silent: RelayLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * PostgreSQL WAL (pgoutput) to Redis Streams, exactly once.
 *
 * Every event carries its position (commit LSN, ordinal in the transaction). Events are appended in
 * batches by a Lua script per stream that skips what the stream's high-water mark says it holds,
 * and the LSN confirmed to the slot only moves past a transaction once all of it is in Redis. So a
 * crash anywhere replays from the last confirmed LSN and the marks drop what was already appended.
 *
 * This class is the session loop (replication sessions, confirmation, standby status); the work is in
 * TransactionAssembly (pgoutput → positioned events), AppendPipeline (ordered, pipelined appends and
 * confirms) and RelayHeartbeat.
 */
export class CdcRelay {
  private readonly redis: Redis;
  private readonly db: Pool;
  private readonly metrics: RelayMetrics;
  private readonly logger: RelayLogger;
  private readonly assembly: TransactionAssembly;
  private readonly appends: AppendPipeline;
  private readonly heartbeat: RelayHeartbeat;
  private currentState: RelayState = 'idle';
  private stopping = false;
  private session: ReplicationConnection | undefined;
  private running: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly keys = new Map<number, string[]>();

  // Per session: what may be confirmed, and what was last told to PostgreSQL.
  private confirmed = 0n;
  private statusSent = 0n;
  private statusSentAt = 0;

  constructor(private readonly options: CdcRelayOptions) {
    this.logger = options.logger ?? silent;
    this.metrics = new RelayMetrics(options.registry);
    // A worker connection: while Redis is down an append waits (and so does reading from the slot)
    // instead of failing; a script cut off by a crash is sent again, which the mark makes safe.
    this.redis = createRedis(options.redisUrl, 'worker', {
      lazyConnect: true,
      connectionName: 'choreo:cdc-relay',
    });
    this.redis.on('error', () => undefined);
    // Load the script on every (re)connect, so pipelined batches do not all meet NOSCRIPT.
    this.redis.on('ready', () => void loadAppendScript(this.redis).catch(() => undefined));
    this.db = new Pool({ connectionString: options.databaseUrl, max: 2, application_name: 'cdc-relay' });
    this.db.on('error', () => undefined);
    this.assembly = new TransactionAssembly({
      keys: this.keys,
      metrics: this.metrics,
      lookupKeys: (oid) => this.withDb((db) => primaryKeys(db, [oid])).then((found) => found.get(oid) ?? []),
      heartbeatReceived: (content, walStart) => this.heartbeatReceived(content, walStart),
    });
    this.appends = new AppendPipeline({
      redis: this.redis,
      metrics: this.metrics,
      logger: this.logger,
      confirm: (commitEnd) => this.confirm(commitEnd),
      stopping: () => this.stopping,
    });
    this.heartbeat = new RelayHeartbeat(this.db, this.metrics, this.logger, () => this.confirmed);
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
      const keys = await primaryKeys(
        client,
        tables.map((t) => t.oid),
      );
      this.keys.clear();
      for (const [oid, columns] of keys) this.keys.set(oid, columns);
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
      setInterval(() => void this.heartbeat.beat(), this.options.heartbeatIntervalMs),
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
        await this.appends.drain().catch(() => undefined);
      }
      if (!this.stopping) await sleep(relayBackoffMs(attempt));
    }
  }

  private resetSession(confirmed: bigint): void {
    this.assembly.reset(confirmed);
    this.appends.reset();
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
          await this.appends.drain();
          this.sendStatus(true);
        }
        throw error;
      }
      if (frame.kind === 'keepalive') {
        if (this.idle()) this.confirm(frame.walEnd);
        if (frame.replyRequested) this.sendStatus(true);
      } else {
        const lookup = this.assembly.handle(decoder.decode(frame.payload), frame.walStart);
        if (lookup) await lookup;
      }
      // Append when the batch is full, or when nothing more is waiting: batches grow under load
      // and latency stays low when the load is light.
      if (this.assembly.pendingCount >= this.options.chunkEvents) await this.flush();
      else if (!session.hasQueuedFrames() && this.assembly.hasUndispatched) {
        await this.flush();
      }
    }
  }

  /** Everything read so far is held by Redis (so any LSN read so far may be confirmed). */
  private idle(): boolean {
    return this.assembly.settled && this.appends.idle;
  }

  /** Hands what was read to the append pipeline (see AppendPipeline.send). */
  private async flush(): Promise<void> {
    await this.appends.send(this.assembly.take());
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

  private heartbeatReceived(content: Uint8Array, lsn: bigint): void {
    const idle = this.idle();
    this.heartbeat.received(content, idle);
    if (idle && this.assembly.commitEnd <= this.confirmed) this.confirm(lsn);
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
