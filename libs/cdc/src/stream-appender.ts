import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { CLOUDEVENTS_SPEC_VERSION } from '@choreo/contracts';
import { RELAY_SOURCE, RelayEvent, RowChangeEntry } from './relay-events';

/** The Redis key holding a stream's high-water mark: the position of the newest event it holds. */
export function highWaterMarkKey(stream: string): string {
  // The hash tag is the whole stream name, so in Redis Cluster the mark lives in the stream's slot
  // and one script can touch both.
  return `cdc:hwm:{${stream}}`;
}

/**
 * Appends, atomically, the events of one batch that are newer than the stream's high-water mark,
 * and moves the mark to the last one. Positions are fixed-width hex text; they are compared in
 * 8-digit pieces with tonumber (exact in Lua's doubles) rather than with `<` on strings, which Lua
 * does with strcoll under whatever locale redis-server was started in.
 *
 * ARGV[1]: the position of the last event of the batch sent before this one to the same stream (''
 * for none). Batches are pipelined; if an earlier one has not landed (it failed, and is being
 * retried), this one must not land before it: the mark would jump past the earlier events, which
 * would then be skipped as duplicates. So a batch whose predecessor is missing fails with GAP and is
 * retried.
 * ARGV[2]: the batch as one flat MessagePack array, entries one after another, positions ascending
 * (see packBatch): a row change as `position, 'S', id, type, subject, time, data` (or `'R'`, the
 * same without subject), the script adding the constant fields; any other event as `position, 'F',
 * <number of fields>, field, value, …`. One argument instead of one per field: per-argument work in
 * the client was most of the relay's CPU. Few strings per row, and no table per entry: in Redis,
 * each unpacked string becomes a Lua string, hashed over every byte (Redis' Lua hashes whole
 * strings), and an array per entry cost about 8% of the script's instructions (callgrind).
 * Returns { appended, skipped }. Positions ascend, so once one entry is newer than the mark all the
 * rest are: the mark is compared until the first newer entry, not for every entry.
 */
export const APPEND_NEWER_LUA = `
local mark = redis.call('GET', KEYS[2])
local function newer(a, b)
  local x, y = tonumber(string.sub(a, 1, 8), 16), tonumber(string.sub(b, 1, 8), 16)
  if x ~= y then return x > y end
  x, y = tonumber(string.sub(a, 9, 16), 16), tonumber(string.sub(b, 9, 16), 16)
  if x ~= y then return x > y end
  return tonumber(string.sub(a, 18, 25), 16) > tonumber(string.sub(b, 18, 25), 16)
end
local previous = ARGV[1]
if previous ~= '' and ((not mark) or newer(previous, mark)) then
  return redis.error_reply('GAP the batch before this one is not in ' .. KEYS[1] .. ' yet')
end
local a = cmsgpack.unpack(ARGV[2])
local n, i, skipped, appended, last = #a, 1, 0, 0, nil
local function size(at)
  local shape = a[at + 1]
  if shape == 'S' then return 7 elseif shape == 'R' then return 6 end
  return 3 + a[at + 2]
end
if mark then
  while i <= n and not newer(a[i], mark) do
    i = i + size(i)
    skipped = skipped + 1
  end
end
while i <= n do
  local shape = a[i + 1]
  if shape == 'S' then
    redis.call('XADD', KEYS[1], '*', 'specversion', '1.0', 'id', a[i + 2], 'type', a[i + 3],
      'source', '${RELAY_SOURCE}', 'subject', a[i + 4], 'time', a[i + 5], 'datacontenttype', 'application/json', 'data', a[i + 6],
      'position', a[i])
  elseif shape == 'R' then
    redis.call('XADD', KEYS[1], '*', 'specversion', '1.0', 'id', a[i + 2], 'type', a[i + 3],
      'source', '${RELAY_SOURCE}', 'time', a[i + 4], 'datacontenttype', 'application/json', 'data', a[i + 5], 'position', a[i])
  else
    redis.call('XADD', KEYS[1], '*', unpack(a, i + 3, i + 2 + a[i + 2]))
  end
  last = a[i]
  i = i + size(i)
  appended = appended + 1
end
if last then redis.call('SET', KEYS[2], last) end
return {appended, skipped}
`;

const SCRIPT_SHA = createHash('sha1').update(APPEND_NEWER_LUA).digest('hex');

export interface AppendResult {
  appended: number;
  skipped: number;
}

const ARRAY32 = 0xdd;
const STR32 = 0xdb;
const UINT32 = 0xce;
/** MessagePack header of an array or string with a 32-bit length: one type byte, four length bytes. */
const HEADER = 5;

/**
 * Whether `fields` are exactly what the script's `S` (`R`) shape writes back: a row change's
 * fields, with (without) subject, given as a field list rather than as a RowChangeEntry. Anything
 * else travels field by field, so the stream holds the fields of every event as given, whichever
 * way it went.
 */
function rowShape(fields: readonly string[], position: string): 'S' | 'R' | undefined {
  const at = fields.length - 16; // 2 with a subject, 0 without
  if (at !== 0 && at !== 2) return undefined;
  if (
    fields[0] !== 'specversion' ||
    fields[1] !== CLOUDEVENTS_SPEC_VERSION ||
    fields[2] !== 'id' ||
    fields[4] !== 'type' ||
    fields[6] !== 'source' ||
    fields[7] !== RELAY_SOURCE ||
    (at === 2 && fields[8] !== 'subject') ||
    fields[8 + at] !== 'time' ||
    fields[10 + at] !== 'datacontenttype' ||
    fields[11 + at] !== 'application/json' ||
    fields[12 + at] !== 'data' ||
    fields[14 + at] !== 'position' ||
    fields[15 + at] !== position
  ) {
    return undefined;
  }
  return at === 2 ? 'S' : 'R';
}

/** Node's UTF-8 writer without `Buffer#write`'s argument handling (which cost more than the copy). */
type Utf8Writer = (this: Buffer, text: string, offset: number) => number;
const utf8Write: Utf8Writer =
  (Buffer.prototype as unknown as { utf8Write?: Utf8Writer }).utf8Write ??
  function (this: Buffer, text: string, offset: number) {
    return this.write(text, offset, 'utf8');
  };

/** Strings shorter than this are copied by a JS loop when ASCII: cheaper than a call into C++. */
const SHORT = 64;
const SCRATCH_LIMIT = 16 * 1024 * 1024;

/** A MessagePack header with a 32-bit length (Buffer#writeUInt32BE validates its arguments each call). */
function writeHeader(buffer: Buffer, offset: number, type: number, length: number): void {
  buffer[offset] = type;
  buffer[offset + 1] = length >>> 24;
  buffer[offset + 2] = (length >>> 16) & 0xff;
  buffer[offset + 3] = (length >>> 8) & 0xff;
  buffer[offset + 4] = length & 0xff;
}

/** Writes `text` as a MessagePack string at `offset`; returns the offset after it. */
function writeString(buffer: Buffer, offset: number, text: string): number {
  const start = offset + HEADER;
  let length = text.length;
  if (length < SHORT) {
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        length = utf8Write.call(buffer, text, start);
        break;
      }
      buffer[start + i] = code;
    }
  } else {
    length = utf8Write.call(buffer, text, start);
  }
  writeHeader(buffer, offset, STR32, length);
  return start + length;
}

const UPPER_HEX = Buffer.from('0123456789ABCDEF', 'latin1');
const LOWER_HEX = Buffer.from('0123456789abcdef', 'latin1');
const QUOTE = 0x22;
const CLOSING_BRACE = 0x7d;

/** Writes an ordinal as the 8 hex digits of a position (upper case) or an id (lower case). */
function writeOrdinal(buffer: Buffer, offset: number, ordinal: number, digits: Buffer): number {
  for (let i = 7; i >= 0; i--, ordinal >>>= 4) buffer[offset + i] = digits[ordinal & 0xf];
  return offset + 8;
}

/** Writes `prefix` and the ordinal's 8 hex digits as one MessagePack string. */
function writePrefixed(
  buffer: Buffer,
  offset: number,
  prefix: Buffer,
  ordinal: number,
  digits: Buffer,
): number {
  writeHeader(buffer, offset, STR32, prefix.length + 8);
  buffer.set(prefix, offset + HEADER);
  return writeOrdinal(buffer, offset + HEADER + prefix.length, ordinal, digits);
}

function writeBytes(buffer: Buffer, offset: number, bytes: Buffer): number {
  writeHeader(buffer, offset, STR32, bytes.length);
  buffer.set(bytes, offset + HEADER);
  return offset + HEADER + bytes.length;
}

/**
 * A row change in the script's `S` (`R`) shape: its position, id, type, subject and time from
 * the ordinal's digits and bytes encoded once per transaction or relation, `data` as its head
 * and the ordinal. The bytes are those of the strings `event.fields` holds.
 */
function writeRowChange(buffer: Buffer, offset: number, event: RowChangeEntry): number {
  const { bytes } = event.tx;
  offset = writePrefixed(buffer, offset, bytes.positionPrefix, event.ordinal, UPPER_HEX);
  offset = writeString(buffer, offset, event.subject === undefined ? 'R' : 'S');
  offset = writePrefixed(buffer, offset, bytes.idPrefix, event.ordinal, LOWER_HEX);
  offset = writeBytes(buffer, offset, event.typeBytes);
  if (event.subject !== undefined) offset = writeString(buffer, offset, event.subject);
  offset = writeBytes(buffer, offset, bytes.time);
  // data: its head, then the position's ordinal and `"}`.
  const start = offset + HEADER;
  let end = start + utf8Write.call(buffer, event.dataHead, start);
  end = writeOrdinal(buffer, end, event.ordinal, UPPER_HEX);
  buffer[end++] = QUOTE;
  buffer[end++] = CLOSING_BRACE;
  writeHeader(buffer, offset, STR32, end - start);
  return end;
}

/** The most bytes writeRowChange can write for `event`. */
function rowChangeBound(event: RowChangeEntry): number {
  const { bytes } = event.tx;
  return (
    HEADER * 7 +
    bytes.positionPrefix.length +
    bytes.idPrefix.length +
    bytes.time.length +
    event.typeBytes.length +
    (event.subject?.length ?? 0) * 3 +
    event.dataHead.length * 3 +
    27 // the ordinal's digits in position, id and data; the shape; data's closing `"}`
  );
}

/**
 * A batch of events as one MessagePack array (see APPEND_NEWER_LUA). Every length is written as 32
 * bits, so a string's header can be filled in after the string was written (its UTF-8 length is
 * known only then). It is written into a scratch buffer sized for the worst case of 3 bytes per
 * UTF-16 unit, reused from batch to batch, and copied out at its real size.
 */
let scratch = Buffer.allocUnsafe(0);

export function packBatch(events: readonly RelayEvent[]): Buffer {
  let bound = HEADER;
  for (const event of events) {
    if (event instanceof RowChangeEntry) {
      bound += rowChangeBound(event);
      continue;
    }
    bound += HEADER * 3 + 3 + event.position.length * 3;
    for (const field of event.fields) bound += HEADER + field.length * 3;
  }
  // Past a few batches' worth it is not kept, so one huge row does not pin its size for good.
  const buffer = bound <= scratch.length ? scratch : Buffer.allocUnsafeSlow(bound);
  if (bound > scratch.length && bound <= SCRATCH_LIMIT) scratch = buffer;
  let offset = HEADER;
  let values = 0;
  for (const event of events) {
    if (event instanceof RowChangeEntry) {
      values += event.subject === undefined ? 6 : 7;
      offset = writeRowChange(buffer, offset, event);
      continue;
    }
    const fields = event.fields;
    const shape = rowShape(fields, event.position);
    values += shape === 'S' ? 7 : shape === 'R' ? 6 : fields.length + 3;
    offset = writeString(buffer, offset, event.position);
    if (shape === 'S') {
      offset = writeString(buffer, offset, 'S');
      offset = writeString(buffer, offset, fields[3]);
      offset = writeString(buffer, offset, fields[5]);
      offset = writeString(buffer, offset, fields[9]);
      offset = writeString(buffer, offset, fields[11]);
      offset = writeString(buffer, offset, fields[15]);
    } else if (shape === 'R') {
      offset = writeString(buffer, offset, 'R');
      offset = writeString(buffer, offset, fields[3]);
      offset = writeString(buffer, offset, fields[5]);
      offset = writeString(buffer, offset, fields[9]);
      offset = writeString(buffer, offset, fields[13]);
    } else {
      offset = writeString(buffer, offset, 'F');
      writeHeader(buffer, offset, UINT32, fields.length);
      offset += HEADER;
      for (const field of fields) offset = writeString(buffer, offset, field);
    }
  }
  writeHeader(buffer, 0, ARRAY32, values);
  const packed = Buffer.allocUnsafeSlow(offset);
  buffer.copy(packed, 0, 0, offset);
  return packed;
}

/**
 * Appends a batch of events (ascending positions, all for `stream`) unless the stream already holds
 * them. Safe to repeat: after a crash, a replay of the same WAL appends only what is missing.
 * `batch` is the events or packBatch(events) — a caller that retries, or holds batches while they
 * are in flight, keeps only the packed bytes. `previous` is the last position of the batch sent
 * before it to this stream, if any (see GAP).
 */
export async function appendNewer(
  redis: Redis,
  stream: string,
  batch: readonly RelayEvent[] | Buffer,
  previous = '',
): Promise<AppendResult> {
  const packed = Buffer.isBuffer(batch) ? batch : packBatch(batch);
  const mark = highWaterMarkKey(stream);
  let reply: unknown;
  try {
    reply = await redis.evalsha(SCRIPT_SHA, 2, stream, mark, previous, packed);
  } catch (error) {
    // A restarted Redis has an empty script cache.
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
    reply = await redis.eval(APPEND_NEWER_LUA, 2, stream, mark, previous, packed);
  }
  const [appended, skipped] = reply as [number, number];
  return { appended, skipped };
}

/** Loads the append script into Redis' script cache (after a connect: a restarted Redis has none). */
export async function loadAppendScript(redis: Redis): Promise<void> {
  await redis.script('LOAD', APPEND_NEWER_LUA);
}

/** The high-water mark of a stream (position text), or null when the relay never wrote to it. */
export function readHighWaterMark(redis: Redis, stream: string): Promise<string | null> {
  return redis.get(highWaterMarkKey(stream));
}
