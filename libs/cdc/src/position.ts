import { createHash } from 'node:crypto';

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
  if (!Number.isSafeInteger(ordinal) || ordinal < 0 || ordinal > 0xffffffff) {
    throw new Error(`ordinal out of range: ${ordinal}`);
  }
  return `${prefix}:${ordinal.toString(16).toUpperCase().padStart(8, '0')}`;
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
 * The event id of a CDC event: a UUID-shaped SHA-256 of its position (version 8, RFC 9562's
 * vendor-specific layout), so a replay of the same WAL produces the same id.
 */
export function eventIdFor(position: Position | string): string {
  const text = typeof position === 'string' ? position : formatPosition(position);
  const hash = createHash('sha256').update(`choreo.cdc/${text}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x80;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
