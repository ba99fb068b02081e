import { ApiError, FieldProblem, invalidMessage } from '@choreo/http';

/**
 * Every way an entity operation can fail that the caller can act on, each with its one HTTP
 * status; the events path raises the same codes from the same repository.
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

const HTTP_OF: Record<EntityErrorCode, { status: number; error: string }> = {
  [EntityErrorCode.Invalid]: { status: 400, error: 'validation_failed' },
  [EntityErrorCode.UnknownEntity]: { status: 404, error: 'unknown_entity' },
  [EntityErrorCode.NotFound]: { status: 404, error: 'not_found' },
  [EntityErrorCode.Conflict]: { status: 409, error: 'unique_violation' },
  [EntityErrorCode.Stale]: { status: 412, error: 'precondition_failed' },
};

export class EntityError extends ApiError {
  constructor(
    readonly code: EntityErrorCode,
    message: string,
    problems: FieldProblem[] = [],
    field?: string,
  ) {
    super(HTTP_OF[code].status, HTTP_OF[code].error, message, problems, field);
    this.name = 'EntityError';
  }

  static override invalid(problems: FieldProblem[], what = 'request'): EntityError {
    return new EntityError(EntityErrorCode.Invalid, invalidMessage(problems, what), problems);
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
