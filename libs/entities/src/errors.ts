import type { z } from 'zod';

/** One thing wrong with a request: the field (or filter, or parameter) and what is wrong with it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Every way an entity operation can fail that the caller can act on. libs/http maps each code to
 * one HTTP status; the events path raises the same codes from the same repository.
 */
export const EntityErrorCode = {
  /** The body, a filter or a parameter is invalid: 400, naming each field. */
  Invalid: 'invalid',
  /** No such entity or named query: 404. */
  UnknownEntity: 'unknown_entity',
  /** No row with that id: 404. */
  NotFound: 'not_found',
  /** A unique field already has that value: 409, naming the field. */
  Conflict: 'conflict',
  /** `If-Match` names a version that is no longer current: 412. */
  Stale: 'stale',
} as const;
export type EntityErrorCode = (typeof EntityErrorCode)[keyof typeof EntityErrorCode];

export class EntityError extends Error {
  constructor(
    readonly code: EntityErrorCode,
    message: string,
    readonly problems: FieldProblem[] = [],
    /** The field at fault, for a conflict. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'EntityError';
  }

  static invalid(problems: FieldProblem[], what = 'request'): EntityError {
    const list = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    return new EntityError(EntityErrorCode.Invalid, `invalid ${what}: ${list}`, problems);
  }

  static unknownEntity(name: string): EntityError {
    return new EntityError(EntityErrorCode.UnknownEntity, `no entity named '${name}'`);
  }

  static unknownQuery(entity: string, name: string): EntityError {
    return new EntityError(EntityErrorCode.UnknownEntity, `entity '${entity}' has no query named '${name}'`);
  }

  static notFound(entity: string, id: string): EntityError {
    return new EntityError(EntityErrorCode.NotFound, `${entity} ${id} not found`);
  }

  static conflict(entity: string, field: string): EntityError {
    return new EntityError(
      EntityErrorCode.Conflict,
      `${entity}.${field} must be unique: another row has that value`,
      [{ field, message: 'already taken' }],
      field,
    );
  }

  static stale(entity: string, id: string, current: number): EntityError {
    return new EntityError(
      EntityErrorCode.Stale,
      `${entity} ${id} has changed (now version ${current}); read it again and retry with its ETag`,
    );
  }
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
