import { deadLetterFields, DeadLetterOrigin, fieldMap, originalFields, Streams } from '@choreo/contracts';
import type Redis from 'ioredis';

/**
 * Appends the entry to `dead-letters` and acknowledges it in one MULTI, so a crash can neither lose
 * the entry (acked, not dead-lettered) nor dead-letter it twice (dead-lettered, still pending).
 */
export async function moveToDeadLetters(
  redis: Redis,
  origin: DeadLetterOrigin,
  fields: readonly string[],
  deadLetterStream: string = Streams.deadLetters,
): Promise<string> {
  const replies = await redis
    .multi()
    .xadd(deadLetterStream, '*', ...deadLetterFields(fields, origin))
    .xack(origin.stream, origin.group, origin.entryId)
    .exec();
  if (replies === null) throw new Error('dead-lettering transaction was aborted');
  const [[addError, deadLetterId], [ackError]] = replies;
  if (addError) throw addError;
  if (ackError) throw ackError;
  return deadLetterId as string;
}

/** A dead letter as the CLI and operators see it. */
export interface DeadLetter {
  /** The entry id in `dead-letters`. */
  id: string;
  fields: Record<string, string>;
  /** The raw field list, original order. */
  rawFields: string[];
}

/** Reads, replays and purges `dead-letters`: the operator's side of dead-lettering. */
export class DeadLetterStore {
  constructor(
    private readonly redis: Redis,
    readonly stream: string = Streams.deadLetters,
  ) {}

  /** Dead letters oldest first, optionally only those that came from one stream. */
  async list(options: { originStream?: string; count?: number } = {}): Promise<DeadLetter[]> {
    const count = options.count ?? 1_000;
    const result: DeadLetter[] = [];
    let start = '-';
    // Page through so a filter on the origin stream still finds `count` matches in a long DLQ.
    while (result.length < count) {
      const page = await this.redis.xrange(this.stream, start, '+', 'COUNT', 500);
      for (const [id, raw] of page) {
        const fields = fieldMap(raw);
        if (options.originStream === undefined || fields['dlq_stream'] === options.originStream) {
          result.push({ id, fields, rawFields: raw });
          if (result.length >= count) break;
        }
      }
      if (page.length < 500) break;
      start = `(${page[page.length - 1][0]}`;
    }
    return result;
  }

  /** One dead letter by its id in `dead-letters`, or undefined. */
  async show(id: string): Promise<DeadLetter | undefined> {
    const [entry] = await this.redis.xrange(this.stream, id, id);
    return entry ? { id: entry[0], fields: fieldMap(entry[1]), rawFields: entry[1] } : undefined;
  }

  /**
   * Re-publishes a dead letter to the stream it came from with its original fields (so the event keeps
   * its id and a deduplicating handler still recognises it) and removes it, in one MULTI.
   * Resolves to the new entry id in the origin stream, or undefined if there is no such dead letter.
   */
  async replay(id: string): Promise<string | undefined> {
    const deadLetter = await this.show(id);
    if (!deadLetter) return undefined;
    const origin = deadLetter.fields['dlq_stream'];
    if (!origin) throw new Error(`dead letter ${id} has no dlq_stream field: cannot tell where to replay it`);
    const replies = await this.redis
      .multi()
      .xadd(origin, '*', ...originalFields(deadLetter.rawFields))
      .xdel(this.stream, id)
      .exec();
    if (replies === null) throw new Error('replay transaction was aborted');
    const [[addError, newId], [delError]] = replies;
    if (addError) throw addError;
    if (delError) throw delError;
    return newId as string;
  }

  /** Deletes the given dead letters; resolves to how many existed. */
  async purge(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.redis.xdel(this.stream, ...ids);
  }
}
