import { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError, problemsFromZod } from './api-error';

/**
 * Parses request input with a zod schema; a failure is ApiError.invalid, a 400 that names
 * every bad field (`items[0].quantity: must be >= 1`). `what` names the input in the message.
 */
export function validateWith<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw ApiError.invalid(problemsFromZod(result.error), what);
}

/** The same as a Nest pipe: `@Body(new ZodValidationPipe(schema)) body: Order`. */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly what = 'body',
  ) {}

  transform(value: unknown): z.output<S> {
    return validateWith(this.schema, value, this.what);
  }
}
