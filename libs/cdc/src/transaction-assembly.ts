import { DecodedMessage } from './pgoutput-decoder';
import { parseLsn } from './position';
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
import type { RelayMetrics } from './relay-metrics';

interface OpenTransaction extends TransactionContext {
  ordinal: number;
}

/** The events read since the last batch, and how far whole transactions reach. */
export interface AssembledBatch {
  events: RelayEvent[];
  /** End LSN of the last commit read: every transaction up to it is in this batch or an earlier one. */
  commitEnd: bigint;
  /** Commit time (µs since 2000-01-01) of that transaction, for the lag gauge; 0 when none. */
  commitTimeMicros: bigint;
}

/** Where transaction assembly gets what it does not hold itself. */
export interface AssemblyPorts {
  /** Primary-key columns by table oid; the relay fills it at start and when tables are added. */
  readonly keys: Map<number, string[]>;
  /** Looks up the primary key of a table the relay has not seen before. */
  lookupKeys(relationOid: number): Promise<string[]>;
  /** A heartbeat message read back from the WAL (at `walStart`). */
  heartbeatReceived(content: Uint8Array, walStart: bigint): void;
  readonly metrics: RelayMetrics;
}

/**
 * Turns decoded pgoutput messages into relay events, each with its position (commit LSN, ordinal in
 * the transaction), and hands them out in batches that know how far whole transactions reach.
 */
export class TransactionAssembly {
  private pending: RelayEvent[] = [];
  private transaction: OpenTransaction | undefined;
  private lastCommitEnd = 0n;
  private dispatchedCommitEnd = 0n;
  private lastCommitTimeMicros = 0n;

  constructor(private readonly ports: AssemblyPorts) {}

  /** A new session starts from the slot's confirmed LSN: nothing read before it counts. */
  reset(confirmed: bigint): void {
    this.pending = [];
    this.transaction = undefined;
    this.lastCommitEnd = confirmed;
    this.dispatchedCommitEnd = confirmed;
  }

  /** Events waiting for the next batch. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** End LSN of the last commit read. */
  get commitEnd(): bigint {
    return this.lastCommitEnd;
  }

  /** No transaction is open and no event waits: everything read is in a batch. */
  get settled(): boolean {
    return this.transaction === undefined && this.pending.length === 0;
  }

  /** Something read has not been handed out yet: events, or a commit whose LSN is still to confirm. */
  get hasUndispatched(): boolean {
    return this.pending.length > 0 || this.lastCommitEnd > this.dispatchedCommitEnd;
  }

  /** Hands out the pending events as one batch. */
  take(): AssembledBatch {
    const batch = {
      events: this.pending,
      commitEnd: this.lastCommitEnd,
      commitTimeMicros: this.lastCommitTimeMicros,
    };
    this.pending = [];
    this.dispatchedCommitEnd = this.lastCommitEnd;
    return batch;
  }

  /** Synchronous except when a new table's primary key must be looked up (returns that promise). */
  handle(message: DecodedMessage, walStart: bigint): Promise<void> | undefined {
    switch (message.tag) {
      case 'begin':
        this.transaction = {
          ...transactionContext(parseLsn(message.commitLsn ?? '0/0'), message.commitTime as bigint),
          ordinal: 0,
        };
        return;
      case 'relation': {
        const { keys } = this.ports;
        if (keys.has(message.relationOid)) return;
        return this.ports.lookupKeys(message.relationOid).then((found) => {
          keys.set(message.relationOid, found);
        });
      }
      case 'insert':
      case 'update':
      case 'delete': {
        const tx = this.openTransaction();
        this.pending.push(
          rowChangeEvent(message, tx, ++tx.ordinal, this.ports.keys.get(message.relation.relationOid) ?? []),
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
          this.ports.heartbeatReceived(message.content, walStart);
        }
        return;
      case 'commit': {
        const tx = this.openTransaction();
        this.transaction = undefined;
        this.lastCommitEnd = parseLsn(message.commitEndLsn ?? '0/0');
        this.lastCommitTimeMicros = tx.commitTimeMicros;
        this.ports.metrics.transactions.inc();
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
}
