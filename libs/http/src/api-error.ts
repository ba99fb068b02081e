import type { z } from 'zod';

/** One thing wrong with a request: the field (or filter, or parameter) and what is wrong with it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * An error the client can act on, already in HTTP terms: its status, a stable snake_case code,
 * a message, and for a 400 each field at fault. Libraries throw it (or a subclass with its own
 * code enum, e.g. EntityError); `errorResponse` turns it into the error body.
 */
export class ApiError extends Error {
  /** More of what the client may act on, merged into the error body (`{ idempotency_key }` …). */
  details?: Record<string, unknown>;

  constructor(
    readonly statusCode: number,
    /** A stable code: validation_failed, not_found, unique_violation, precondition_failed, … */
    readonly error: string,
    message: string,
    readonly problems: FieldProblem[] = [],
    /** The field at fault, for a conflict. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** 400 validation_failed naming each problem; `what` names the input (body, query, …). */
  static invalid(problems: FieldProblem[], what = 'request'): ApiError {
    return new ApiError(400, 'validation_failed', invalidMessage(problems, what), problems);
  }
}

/** `invalid body: price: must be >= 0; name: is required`. */
export function invalidMessage(problems: readonly FieldProblem[], what: string): string {
  const list = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return `invalid ${what}: ${list}`;
}

/** A readable dotted path: `items[1].price`, or `body` for the top level. */
export function formatPath(path: readonly PropertyKey[], root = 'body'): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? root : out;
}

/** zod issues as field problems; unknown keys become one problem per key. */
export function problemsFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        problems.push({ field: formatPath([...path, key]), message: 'unknown field' });
    } else if (
      (issue.code === 'invalid_type' || issue.code === 'invalid_union') &&
      issue.input === undefined
    ) {
      // Callers parse with `reportInput: true`, so an undefined input is a missing key.
      problems.push({ field: formatPath(path), message: 'is required' });
    } else if (issue.code === 'invalid_union') {
      problems.push({ field: formatPath(path), message: unionMessage(issue.errors) });
    } else {
      problems.push({ field: formatPath(path), message: issue.message.replace(/^Invalid input: /, '') });
    }
  }
  return problems;
}

// A union (a decimal is a number or a numeric string) fails in every branch; when the input had
// one branch's type, that branch's complaint is the useful one.
function unionMessage(branches: z.core.$ZodIssue[][]): string {
  const specific = branches.flat().find((issue) => issue.code !== 'invalid_type');
  if (specific) return specific.message;
  const expected = branches
    .flat()
    .flatMap((issue) => (issue.code === 'invalid_type' ? [issue.expected] : []));
  return `expected ${[...new Set(expected)].join(' or ')}`;
}
