import { ApiError } from './api-error';

/** The ETag of an entity row: its version, quoted. */
export function etagOf(row: { version: number }): string {
  return `"${row.version}"`;
}

/**
 * The version an `If-Match` header asks for; undefined when absent or `*`. A value that is not
 * one of our ETags cannot match any version: 412.
 */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(header);
  if (!match) {
    throw new ApiError(
      412,
      'precondition_failed',
      `If-Match ${header} is not an ETag of this API (expected e.g. "3")`,
    );
  }
  return Number(match[1]);
}
