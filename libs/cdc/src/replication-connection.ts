import { Client, ClientConfig } from 'pg';

/** A frame of the streaming replication protocol, in the order the server sent it. */
export type ReplicationFrame =
  | { readonly kind: 'data'; readonly walStart: bigint; readonly payload: Buffer }
  | { readonly kind: 'keepalive'; readonly walEnd: bigint; readonly replyRequested: boolean };

export interface ReplicationConnectionOptions {
  databaseUrl: string;
  slot: string;
  publication: string;
  /** Frames held in memory before the socket is paused (back-pressure on the walsender). */
  maxQueuedFrames: number;
  applicationName?: string;
}

// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_MICROS = 946_684_800_000_000n;

interface PgConnection {
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void;
  once(event: 'replicationStart', listener: () => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream: { pause(): void; resume(): void };
}

/**
 * One logical replication session (pgoutput) over node-postgres. Frames are queued in arrival
 * order, keepalives included, so a keepalive is only acted on after every change sent before it;
 * past `maxQueuedFrames` the socket is paused, so a slow Redis slows the walsender down instead
 * of filling memory. Standby status (the confirmed LSN) is sent only when the caller says so:
 * pg-logical-replication's own service acknowledges the last *received* LSN on a timer, which
 * would confirm WAL that Redis does not hold yet.
 */
export class ReplicationConnection {
  private readonly client: Client;
  // A queue as an array and a head index: shift() on an array of thousands of frames showed up in
  // the profile. Taken slots are cleared; the array is compacted now and then.
  private frames: (ReplicationFrame | undefined)[] = [];
  private head = 0;
  private paused = false;
  private wake: (() => void) | undefined;
  /** Why `next()` throws once the queue is empty: the connection failed, or the reader was interrupted. */
  private failure: Error | undefined;
  /** The connection failed or was closed: nothing more can be sent on it. */
  private lost = false;
  private closed = false;

  constructor(private readonly options: ReplicationConnectionOptions) {
    const config: ClientConfig & { replication: string } = {
      connectionString: options.databaseUrl,
      replication: 'database',
      application_name: options.applicationName ?? 'cdc-relay',
    };
    this.client = new Client(config);
    this.client.on('error', (error: Error) => this.lose(error));
  }

  /** Connects and starts streaming from the slot's confirmed position. */
  async start(): Promise<void> {
    await this.client.connect();
    const connection = (this.client as unknown as { connection: PgConnection }).connection;
    connection.on('copyData', ({ chunk }) => this.receive(chunk));
    const started = new Promise<void>((resolve) => connection.once('replicationStart', resolve));
    const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
    // 0/0: the server starts at the slot's confirmed_flush_lsn. Protocol 1 without streaming: a
    // transaction arrives only once committed, so nothing that may still abort is ever published.
    const command =
      `START_REPLICATION SLOT ${identifier(this.options.slot)} LOGICAL 0/0 ` +
      `(proto_version '1', publication_names ${literal(this.options.publication)}, messages 'true')`;
    const ended = this.client.query(command).then(
      () => this.lose(new Error('replication stream ended by the server')),
      (error: Error) => this.lose(error),
    );
    await Promise.race([started, ended.then(() => Promise.reject(this.failure))]);
  }

  /** The next frame, waiting for one; throws once the session has failed or was closed. */
  async next(): Promise<ReplicationFrame> {
    for (;;) {
      const frame = this.poll();
      if (frame) return frame;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /**
   * The next frame if one is queued (no promise per frame on the hot path); throws once the
   * session has failed and nothing is left.
   */
  poll(): ReplicationFrame | undefined {
    if (this.head === this.frames.length) {
      if (this.failure) throw this.failure;
      return undefined;
    }
    const frame = this.frames[this.head] as ReplicationFrame;
    this.frames[this.head++] = undefined;
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    } else if (this.head >= 4096) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.queued() <= this.options.maxQueuedFrames / 2) {
      this.paused = false;
      this.connection().stream.resume();
    }
    return frame;
  }

  /** True when a frame is waiting (so a batch can grow before it is flushed). */
  hasQueuedFrames(): boolean {
    return this.head < this.frames.length;
  }

  private queued(): number {
    return this.frames.length - this.head;
  }

  /**
   * Sends standby status: written = flushed = applied = `confirmedLsn`, the position up to which
   * the slot may forget WAL. `replyRequested` asks the server for a keepalive back.
   */
  sendStatus(confirmedLsn: bigint, replyRequested = false): void {
    // Still sent after interrupt(): a stopping relay confirms what it appended on its way out.
    if (this.lost) return;
    const message = Buffer.alloc(34);
    message[0] = 0x72; // 'r'
    message.writeBigUInt64BE(confirmedLsn, 1);
    message.writeBigUInt64BE(confirmedLsn, 9);
    message.writeBigUInt64BE(confirmedLsn, 17);
    message.writeBigUInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_MICROS, 25);
    message[33] = replyRequested ? 1 : 0;
    this.connection().sendCopyFromChunk(message);
  }

  /**
   * Makes `next()` throw `reason` once the frames already queued are taken; the connection stays
   * open, so standby status can still be sent.
   */
  interrupt(reason: Error): void {
    this.fail(reason);
  }

  /** Ends the session. Whatever was queued and not confirmed is sent again by the next session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lose(new Error('replication connection closed'));
    await this.client.end().catch(() => undefined);
  }

  private connection(): PgConnection {
    return (this.client as unknown as { connection: PgConnection }).connection;
  }

  private receive(chunk: Buffer): void {
    const tag = chunk[0];
    if (tag === 0x77 /* w: XLogData */) {
      // Copy out of the socket buffer, which node-postgres reuses (straight into a pooled buffer, no
      // intermediate view).
      const payload = Buffer.allocUnsafe(chunk.length - 25);
      chunk.copy(payload, 0, 25);
      this.frames.push({ kind: 'data', walStart: chunk.readBigUInt64BE(1), payload });
    } else if (tag === 0x6b /* k: primary keepalive */) {
      this.frames.push({
        kind: 'keepalive',
        walEnd: chunk.readBigUInt64BE(1),
        replyRequested: chunk[17] === 1,
      });
    } else {
      return;
    }
    if (!this.paused && this.queued() >= this.options.maxQueuedFrames) {
      this.paused = true;
      this.connection().stream.pause();
    }
    this.wakeReader();
  }

  private lose(error: Error): void {
    this.lost = true;
    this.fail(error);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wakeReader();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
