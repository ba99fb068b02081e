import type { Pool } from 'pg';
import { parseLsn } from './position';
import { HEARTBEAT_PREFIX } from './relay-events';
import type { RelayMetrics } from './relay-metrics';
import type { RelayLogger } from './append-pipeline';

/**
 * The relay's heartbeat: a non-transactional message in our own database every interval. It makes the
 * walsender send something even when no published table changes (so the slot's position can move on
 * an idle database), and measures the end-to-end delay of an idle relay when it is read back.
 */
export class RelayHeartbeat {
  private standbySnapshots = true;

  constructor(
    private readonly db: Pool,
    private readonly metrics: RelayMetrics,
    private readonly logger: RelayLogger,
    /** The LSN confirmed to PostgreSQL so far, for the lag-in-bytes gauge. */
    private readonly confirmed: () => bigint,
  ) {}

  /** Writes one heartbeat (and a running-transactions record, when allowed). Never throws. */
  async beat(): Promise<void> {
    try {
      const { rows } = await this.db.query<{ current: string }>(
        `select pg_logical_emit_message(false, $1, $2)::text as emitted, pg_current_wal_lsn()::text as current`,
        [HEARTBEAT_PREFIX, JSON.stringify({ sentAt: Date.now() })],
      );
      this.metrics.lagBytes.set(Math.max(0, Number(parseLsn(rows[0].current) - this.confirmed())));
      if (this.standbySnapshots) await this.logStandbySnapshot();
    } catch (error) {
      this.logger.warn(`cdc: heartbeat failed: ${(error as Error).message}`);
    }
  }

  /** A heartbeat read back from the WAL: while nothing else is in flight, its age is the relay's lag. */
  received(content: Uint8Array, idle: boolean): void {
    try {
      const { sentAt } = JSON.parse(Buffer.from(content).toString('utf8')) as { sentAt?: number };
      if (typeof sentAt === 'number' && idle)
        this.metrics.lagSeconds.set(Math.max(0, (Date.now() - sentAt) / 1000));
    } catch {
      // Another relay version's heartbeat: only its position matters.
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
}
