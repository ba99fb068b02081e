import { z } from 'zod';

/** Why an event's `data` does not match its catalog schema; names each bad path. */
export class EventDataError extends Error {
  constructor(
    readonly type: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(`invalid ${type} data: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'EventDataError';
  }
}

/**
 * One event of the catalog: its type, the version of its payload schema and the runtime validation
 * that producers call before recording it and consumers call before acting on it.
 */
export interface EventDefinition<TType extends string = string, TData = unknown> {
  readonly type: TType;
  /** Payload schema version; a breaking change gets a new version (and a new definition). */
  readonly version: number;
  readonly schema: z.ZodType<TData>;
  /** Validates and returns the payload, or throws EventDataError naming every bad field. */
  parse(data: unknown): TData;
  /** True when `type` is this event's type. */
  is(type: string): type is TType;
}

/** Payload type of an event definition. */
export type EventData<D> = D extends EventDefinition<string, infer T> ? T : never;

/** Declares one catalog event. */
export function defineEvent<TType extends string, TSchema extends z.ZodType>(
  type: TType,
  version: number,
  schema: TSchema,
): EventDefinition<TType, z.output<TSchema>> {
  return {
    type,
    version,
    schema: schema as unknown as z.ZodType<z.output<TSchema>>,
    parse(data: unknown): z.output<TSchema> {
      const result = schema.safeParse(data);
      if (!result.success) {
        throw new EventDataError(
          type,
          result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        );
      }
      return result.data;
    },
    is: (candidate: string): candidate is TType => candidate === type,
  };
}

/** An exact decimal amount as text (`"12.50"`): money never travels as a binary float. */
export const decimalAmount = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal number as text');

/** RFC 3339 timestamp. */
export const timestamp = z.iso.datetime({ offset: true });
