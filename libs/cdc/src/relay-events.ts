import {
  CLOUDEVENTS_SPEC_VERSION,
  deadLetterFields,
  encodeEnvelope,
  EventEnvelope,
  OUTBOX_MESSAGE_PREFIX,
  readOutboxMessage,
  Streams,
  streamForAggregate,
} from '@choreo/contracts';
import type { Pgoutput } from 'pg-logical-replication';
import { RowChange, RowImage } from './pgoutput-decoder';
import {
  checkOrdinal,
  eventIdFor,
  eventIdPrefix,
  formatLsn,
  lsnPrefix,
  ordinalText,
  positionText,
} from './position';

/** One entry the relay appends: its stream, its position (text) and its flat XADD fields. */
export interface RelayEvent {
  readonly stream: string;
  readonly position: string;
  readonly fields: string[];
}

/** What the relay knows of the transaction an event comes from, formatted once for all its events. */
export interface TransactionContext {
  readonly commitLsn: bigint;
  /** Commit time, microseconds since the Unix epoch (as pgoutput sends it). */
  readonly commitTimeMicros: bigint;
  /** Commit time, RFC 3339 (millisecond precision). */
  readonly time: string;
  /** Commit LSN as PostgreSQL prints it. */
  readonly lsn: string;
  readonly positionPrefix: string;
  /** The event id of this transaction's events, less the ordinal (see eventIdFor). */
  readonly idPrefix: string;
  /** The tail shared by every row change's `data` of this transaction, from `"commitTime"` on. */
  readonly dataTail: string;
  /** The same text as UTF-8, for packBatch to copy instead of encoding it again for every row. */
  readonly bytes: { readonly positionPrefix: Buffer; readonly idPrefix: Buffer; readonly time: Buffer };
}

export function transactionContext(commitLsn: bigint, commitTimeMicros: bigint): TransactionContext {
  const time = new Date(Number(commitTimeMicros / 1000n)).toISOString();
  const lsn = formatLsn(commitLsn);
  const positionPrefix = lsnPrefix(commitLsn);
  const idPrefix = eventIdPrefix(positionPrefix);
  return {
    commitLsn,
    commitTimeMicros,
    time,
    lsn,
    positionPrefix,
    idPrefix,
    dataTail: `,"commitTime":${JSON.stringify(time)},"lsn":${JSON.stringify(lsn)},"position":"${positionPrefix}:`,
    bytes: {
      positionPrefix: Buffer.from(`${positionPrefix}:`, 'latin1'),
      idPrefix: Buffer.from(idPrefix, 'latin1'),
      time: Buffer.from(time, 'latin1'),
    },
  };
}

/** The prefix of `pg_logical_emit_message(true, …)` calls that carry outbox events. */
export const OUTBOX_PREFIX = OUTBOX_MESSAGE_PREFIX;
/** The prefix of the relay's own non-transactional heartbeat messages. */
export const HEARTBEAT_PREFIX = 'choreo.heartbeat';
export const RELAY_SOURCE = 'cdc-relay';

/** The `data` of a row-change event on `cdc.<table>`. */
export interface RowChangeData {
  table: string;
  schema: string;
  /** Primary key columns and values; null when the table has no primary key. */
  key: RowImage | null;
  before: RowImage | null;
  after: RowImage | null;
  unchanged: string[];
  commitTime: string;
  /** Commit LSN of the transaction. */
  lsn: string;
  position: string;
}

const VERB = { insert: 'inserted', update: 'updated', delete: 'deleted' } as const;

function entry(stream: string, position: string, event: EventEnvelope): RelayEvent {
  const fields = encodeEnvelope(event);
  fields.push('position', position);
  return { stream, position, fields };
}

/** What every row change of one relation shares, formatted once (relations are few, rows many). */
interface RelationText {
  readonly stream: string;
  readonly types: Record<RowChange['tag'], string>;
  readonly typeBytes: Record<RowChange['tag'], Buffer>;
  /** `data` up to the key: `{"table":…,"schema":…,"key":`. */
  readonly dataHead: string;
  /** `{"<column>":` for each column name seen as a one-column primary key (the key without an object). */
  readonly keyHeads: Map<string, string>;
}

const relationTexts = new WeakMap<Pgoutput.MessageRelation, RelationText>();

function relationText(relation: Pgoutput.MessageRelation): RelationText {
  let text = relationTexts.get(relation);
  if (!text) {
    const table = relation.name;
    const types = {
      insert: `${table}.${VERB.insert}`,
      update: `${table}.${VERB.update}`,
      delete: `${table}.${VERB.delete}`,
    };
    text = {
      stream: Streams.cdc(table),
      types,
      typeBytes: {
        insert: Buffer.from(types.insert),
        update: Buffer.from(types.update),
        delete: Buffer.from(types.delete),
      },
      dataHead: `{"table":${JSON.stringify(table)},"schema":${JSON.stringify(relation.schema)},"key":`,
      keyHeads: new Map(),
    };
    relationTexts.set(relation, text);
  }
  return text;
}

const imageJson = (image: RowImage | null): string => (image ? JSON.stringify(image) : 'null');

/**
 * A row change on `cdc.<table>`. One is made for every row, so it keeps what its stream entry is
 * made of rather than the entry itself: packBatch writes these parts straight into a batch (the
 * position and id as the ordinal's digits after text encoded once per transaction, the type as
 * bytes encoded once per relation), and `fields` gives the same entry as a field list (the fields,
 * in the same order, that `encodeEnvelope` of the envelope would give).
 */
export class RowChangeEntry implements RelayEvent {
  constructor(
    readonly stream: string,
    readonly tx: TransactionContext,
    readonly ordinal: number,
    readonly type: string,
    readonly typeBytes: Buffer,
    /** The primary key as text; undefined when the table has none (the entry has no subject). */
    readonly subject: string | undefined,
    /** `data` up to its position's ordinal, which the ordinal's 8 digits and `"}` complete. */
    readonly dataHead: string,
  ) {}

  get position(): string {
    return positionText(this.tx.positionPrefix, this.ordinal);
  }

  get fields(): string[] {
    const ordinalHex = ordinalText(this.ordinal);
    const { tx, subject } = this;
    const fields = [
      'specversion',
      CLOUDEVENTS_SPEC_VERSION,
      'id',
      tx.idPrefix + ordinalHex.toLowerCase(),
      'type',
      this.type,
      'source',
      RELAY_SOURCE,
    ];
    if (subject !== undefined) fields.push('subject', subject);
    fields.push(
      'time',
      tx.time,
      'datacontenttype',
      'application/json',
      'data',
      `${this.dataHead}${ordinalHex}"}`,
      'position',
      `${tx.positionPrefix}:${ordinalHex}`,
    );
    return fields;
  }
}

/**
 * A row change as an event on `cdc.<table>`, subject the primary key, id derived from the position.
 * `data` is the same text as `JSON.stringify` of a RowChangeData, written from text formatted once
 * per relation and per transaction, with `JSON.stringify` only for the images, the key and
 * `unchanged`.
 */
export function rowChangeEvent(
  change: RowChange,
  tx: TransactionContext,
  ordinal: number,
  primaryKey: readonly string[],
): RowChangeEntry {
  checkOrdinal(ordinal);
  const relation = relationText(change.relation);
  const image = change.after ?? change.before;
  let keyJson = 'null';
  let subject: string | undefined;
  if (primaryKey.length === 1 && image && image[primaryKey[0]] !== undefined) {
    // The common case, written without a key object: the same text JSON.stringify gives.
    const column = primaryKey[0];
    let head = relation.keyHeads.get(column);
    if (head === undefined) relation.keyHeads.set(column, (head = `{${JSON.stringify(column)}:`));
    const value = image[column];
    keyJson = `${head}${JSON.stringify(value)}}`;
    subject = String(value);
  } else if (primaryKey.length > 0 && image) {
    const key: RowImage = {};
    for (const column of primaryKey) key[column] = image[column];
    keyJson = JSON.stringify(key);
    subject =
      primaryKey.length === 1
        ? String(image[primaryKey[0]])
        : JSON.stringify(primaryKey.map((c) => image[c]));
  }
  const unchanged = change.unchanged.length === 0 ? '[]' : JSON.stringify(change.unchanged);
  const dataHead =
    `${relation.dataHead}${keyJson},"before":${imageJson(change.before)},"after":${imageJson(change.after)}` +
    `,"unchanged":${unchanged}${tx.dataTail}`;
  return new RowChangeEntry(
    relation.stream,
    tx,
    ordinal,
    relation.types[change.tag],
    relation.typeBytes[change.tag],
    subject,
    dataHead,
  );
}

/** A TRUNCATE of a published table as a `<table>.truncated` event (no rows, no subject). */
export function truncateEvent(
  table: { name: string; schema: string },
  tx: TransactionContext,
  ordinal: number,
): RelayEvent {
  const position = positionText(tx.positionPrefix, ordinal);
  return entry(Streams.cdc(table.name), position, {
    id: eventIdFor(position),
    type: `${table.name}.truncated`,
    source: RELAY_SOURCE,
    time: tx.time,
    data: { table: table.name, schema: table.schema, commitTime: tx.time, lsn: tx.lsn, position },
  });
}

/**
 * An outbox message as an event on its aggregate's stream, keeping the id, correlation and trace
 * context given at write time. A message that is not a valid outbox event cannot be fixed by
 * retrying, and must not stop the relay: it goes to `dead-letters` with the reason, exactly once
 * like any other event.
 */
export function outboxEvent(content: Uint8Array, tx: TransactionContext, ordinal: number): RelayEvent {
  const position = positionText(tx.positionPrefix, ordinal);
  const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
  const read = readOutboxMessage(text);
  if (read.ok) {
    const { aggregate, event } = read.message;
    return entry(streamForAggregate(aggregate), position, { ...event, time: event.time ?? tx.time });
  }
  const dead = entry(Streams.deadLetters, position, {
    id: eventIdFor(position),
    type: 'cdc.outbox.invalid',
    source: RELAY_SOURCE,
    time: tx.time,
    data: { content: text },
  });
  return {
    ...dead,
    fields: deadLetterFields(dead.fields, {
      stream: read.aggregate !== undefined ? streamForAggregate(read.aggregate) : 'outbox',
      entryId: dead.position,
      group: RELAY_SOURCE,
      consumer: RELAY_SOURCE,
      attempts: 1,
      error: `invalid outbox message: ${read.problem}`,
    }),
  };
}
