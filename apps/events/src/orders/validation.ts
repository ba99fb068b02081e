import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';

// Until libs/http's validation helper lands; same contract: a 400 that names each bad field.

/** Parses request input with a zod schema; a failure is a 400 listing every bad field and why. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new BadRequestException({
    statusCode: 400,
    error: 'validation_failed',
    message: issues.map((i) => `${i.field}: ${i.message}`).join('; '),
    issues,
  });
}
