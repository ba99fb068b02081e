/**
 * Where an event sits in the WAL: the commit LSN of its transaction and its ordinal (1-based) among
 * the events the relay publishes from that transaction. One LSN is not unique (a transaction holds
 * many changes), the pair is, and it grows in commit order, which is the order of publication.
 */
export interface Position {
  readonly commitLsn: bigint;
  readonly ordinal: number;
}

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Parses PostgreSQL's `XXX/XXXXXXXX` LSN text. */
export function parseLsn(text: string): bigint {
  const match = LSN.exec(text);
  if (!match) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** Formats an LSN the way PostgreSQL prints it (`16/B374D848`). */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * The position as fixed-width text, `<LSN as 16 hex digits>:<ordinal as 8 hex digits>`, so that text
 * order is position order. This is what the `position` field of a stream entry and the high-water
 * mark in Redis hold.
 */
export function formatPosition(position: Position): string {
  return positionText(lsnPrefix(position.commitLsn), position.ordinal);
}

/** The LSN half of a position's text, computed once per transaction. */
export function lsnPrefix(commitLsn: bigint): string {
  return commitLsn.toString(16).toUpperCase().padStart(16, '0');
}

/** A position's text from its transaction's `lsnPrefix` and an ordinal. */
export function positionText(prefix: string, ordinal: number): string {
  return `${prefix}:${ordinalText(ordinal)}`;
}

const POSITION = /^([0-9A-F]{16}):([0-9A-F]{8})$/;

/** Reads a position written by formatPosition. */
export function parsePosition(text: string): Position {
  const match = POSITION.exec(text);
  if (!match) throw new Error(`not a CDC position: ${JSON.stringify(text)}`);
  return { commitLsn: BigInt(`0x${match[1]}`), ordinal: parseInt(match[2], 16) };
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function comparePositions(a: Position, b: Position): number {
  if (a.commitLsn !== b.commitLsn) return a.commitLsn < b.commitLsn ? -1 : 1;
  return a.ordinal - b.ordinal;
}

/**
 * The event id of a CDC event: the position itself laid out as a UUID (version 8, RFC 9562's
 * vendor-specific layout), so a replay of the same WAL produces the same id and the id reads back as
 * the position. For LSN `LLLLLLLLLLLLLLLL` and ordinal `OOOOOOOO` (hex):
 * `LLLLLLLL-LLLL-8cdc-8cdc-LLLLOOOOOOOO` — the 12 hex digits after the version and variant nibbles
 * are the constant `cdc`, `cdc`. It is a bijection of the position (unique per position) and sorts in
 * position order. Ids up to November 2026 were a SHA-256 of the position text; nothing stored them.
 */
export function eventIdFor(position: Position | string): string {
  const text = typeof position === 'string' ? position : formatPosition(position);
  if (!POSITION.test(text)) throw new Error(`not a CDC position: ${JSON.stringify(text)}`);
  return eventIdPrefix(text.slice(0, 16)) + text.slice(17).toLowerCase();
}

/** The part of every event id of a transaction that depends only on its `lsnPrefix`. */
export function eventIdPrefix(lsnPrefixText: string): string {
  const lsn = lsnPrefixText.toLowerCase();
  return `${lsn.slice(0, 8)}-${lsn.slice(8, 12)}-8cdc-8cdc-${lsn.slice(12, 16)}`;
}

/** Throws unless `ordinal` fits a position's 8 hex digits. */
export function checkOrdinal(ordinal: number): void {
  if (!Number.isSafeInteger(ordinal) || ordinal < 0 || ordinal > 0xffffffff) {
    throw new Error(`ordinal out of range: ${ordinal}`);
  }
}

/** The ordinal half of a position's text (8 upper-case hex digits). */
export function ordinalText(ordinal: number): string {
  checkOrdinal(ordinal);
  return ordinal.toString(16).toUpperCase().padStart(8, '0');
}
