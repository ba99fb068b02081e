import { Pgoutput, PgoutputPlugin } from 'pg-logical-replication';

/** A row image: column name to value, JSON-ready (see `columnValue`). */
export type RowImage = Record<string, unknown>;

/** An insert, update or delete, with the images pgoutput sent and the columns it left unsent. */
export interface RowChange {
  readonly tag: 'insert' | 'update' | 'delete';
  readonly relation: Pgoutput.MessageRelation;
  /** The old row (REPLICA IDENTITY FULL sends all of it); null for an insert. */
  readonly before: RowImage | null;
  /** The new row; null for a delete. */
  readonly after: RowImage | null;
  /** Columns whose TOAST value did not change and was therefore not in the WAL. */
  readonly unchanged: string[];
}

export type DecodedMessage =
  | RowChange
  | Pgoutput.MessageBegin
  | Pgoutput.MessageCommit
  | Pgoutput.MessageMessage
  | Pgoutput.MessageTruncate
  | Pgoutput.MessageRelation
  | Pgoutput.MessageType
  | Pgoutput.MessageOrigin;

const INSERT = 0x49; // 'I'
const UPDATE = 0x55; // 'U'
const DELETE = 0x44; // 'D'
/** Node's UTF-8 reader without a view (`subarray`) and a TextDecoder call per column value. */
type Utf8Slicer = (this: Buffer, start: number, end: number) => string;
const utf8Slice: Utf8Slicer =
  (Buffer.prototype as unknown as { utf8Slice?: Utf8Slicer }).utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString('utf8', start, end);
  };

/**
 * Decodes pgoutput (protocol 1) messages. Begin, commit, relation, logical messages and truncates go
 * through pg-logical-replication's parser; row changes are read here because that parser turns an
 * unchanged TOAST value into `undefined` (or silently into the old value), and the contract is that
 * such a column is marked unchanged, and because it converts text with node-postgres' type parsers
 * (timestamps to Date, losing microseconds), where we keep PostgreSQL's own text.
 */
export class PgoutputDecoder {
  private readonly plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [] });
  private readonly relations = new Map<number, Pgoutput.MessageRelation>();

  decode(payload: Buffer): DecodedMessage {
    const tag = payload[0];
    if (tag === INSERT || tag === UPDATE || tag === DELETE) return this.rowChange(payload);
    const message = this.plugin.parse(payload) as DecodedMessage;
    if (message.tag === 'relation') this.relations.set(message.relationOid, message);
    return message;
  }

  private rowChange(payload: Buffer): RowChange {
    const reader = new TupleReader(payload);
    const tag = reader.uint8();
    const relationOid = reader.int32();
    const relation = this.relations.get(relationOid);
    if (!relation)
      throw new Error(`pgoutput: change for relation ${relationOid} before its Relation message`);
    let before: RowImage | null = null;
    let after: RowImage | null = null;
    const unchanged: string[] = [];
    let kind = reader.uint8();
    if (tag === INSERT) {
      after = reader.tuple(relation, unchanged);
      return { tag: 'insert', relation, before, after, unchanged };
    }
    // 'K' (key only) or 'O' (the whole old row) precede the new tuple of an update and are all a delete has.
    if (kind === 0x4b || kind === 0x4f) {
      before = reader.tuple(relation, []);
      if (tag === DELETE) return { tag: 'delete', relation, before, after, unchanged };
      kind = reader.uint8();
    }
    if (kind !== 0x4e) throw new Error(`pgoutput: unexpected tuple kind ${String.fromCharCode(kind)}`);
    after = reader.tuple(relation, unchanged);
    // The old row (REPLICA IDENTITY FULL) holds the value the new tuple left out; use it, still
    // listing the column as unchanged so consumers know the WAL did not carry it.
    if (before) for (const column of unchanged) if (column in before) after[column] = before[column];
    return { tag: 'update', relation, before, after, unchanged };
  }
}

class TupleReader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  uint8(): number {
    return this.buffer[this.offset++];
  }

  int16(): number {
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  tuple(relation: Pgoutput.MessageRelation, unchanged: string[]): RowImage {
    const count = this.int16();
    const row: RowImage = {};
    for (let i = 0; i < count; i++) {
      const column = relation.columns[i];
      const kind = this.uint8();
      if (kind === 0x74 /* t */ || kind === 0x62 /* b */) {
        const length = this.int32();
        const start = this.offset;
        this.offset += length;
        row[column.name] =
          kind === 0x74
            ? columnValue(column.typeOid, utf8Slice.call(this.buffer, start, this.offset))
            : this.buffer.toString('base64', start, this.offset);
      } else if (kind === 0x6e /* n */) {
        row[column.name] = null;
      } else if (kind === 0x75 /* u */) {
        unchanged.push(column.name);
      } else {
        throw new Error(`pgoutput: unknown column kind ${String.fromCharCode(kind)}`);
      }
    }
    return row;
  }
}

const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const OID = 26;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_OID = 114;
const JSONB = 3802;

/**
 * A column value as JSON: booleans, 16/32-bit integers and finite floats become JSON natives, json and
 * jsonb become their value; everything else (bigint, numeric, timestamps, uuid, arrays …) stays the
 * text PostgreSQL printed, so no precision is lost.
 */
export function columnValue(typeOid: number, text: string): unknown {
  switch (typeOid) {
    case BOOL:
      return text === 't';
    case INT2:
    case INT4:
    case OID:
      return Number(text);
    case FLOAT4:
    case FLOAT8: {
      const value = Number(text);
      return Number.isFinite(value) ? value : text;
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text) as unknown;
    default:
      return text;
  }
}
