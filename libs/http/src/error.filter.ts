import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EntityError, EntityErrorCode, FieldProblem } from '@choreo/entities';

/** The JSON body of every error answer. */
export interface ErrorBody {
  statusCode: number;
  /** A stable code: validation_failed, not_found, unique_violation, precondition_failed, … */
  error: string;
  message: string;
  /** For a 400: each bad field (or filter, or parameter) and what is wrong with it. */
  issues?: FieldProblem[];
  /** For a 409: the unique field whose value is taken. */
  field?: string;
}

const ENTITY_ERRORS: Record<EntityErrorCode, { status: number; error: string }> = {
  [EntityErrorCode.Invalid]: { status: HttpStatus.BAD_REQUEST, error: 'validation_failed' },
  [EntityErrorCode.UnknownEntity]: { status: HttpStatus.NOT_FOUND, error: 'unknown_entity' },
  [EntityErrorCode.NotFound]: { status: HttpStatus.NOT_FOUND, error: 'not_found' },
  [EntityErrorCode.Conflict]: { status: HttpStatus.CONFLICT, error: 'unique_violation' },
  [EntityErrorCode.Stale]: { status: HttpStatus.PRECONDITION_FAILED, error: 'precondition_failed' },
};

// Fastify refuses bodies before any handler runs, with errors carrying a `code` and an HTTP `statusCode`.
const BODY_ERRORS: Record<string, { error: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { error: 'payload_too_large', message: 'the body is larger than the limit' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    error: 'unsupported_media_type',
    message: 'the body must be JSON (Content-Type: application/json)',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { error: 'invalid_json', message: 'the body is empty but says it is JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    error: 'bad_request',
    message: 'the body length does not match Content-Length',
  },
};

function snake(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** Maps an error to the status and body a client gets. Unknown errors are 500 and say nothing more. */
export function errorResponse(error: unknown): ErrorBody {
  if (error instanceof EntityError) {
    const { status, error: code } = ENTITY_ERRORS[error.code];
    return {
      statusCode: status,
      error: code,
      message: error.message,
      ...(error.code === EntityErrorCode.Invalid ? { issues: error.problems } : {}),
      ...(error.field !== undefined ? { field: error.field } : {}),
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    if (typeof response === 'object' && response !== null) {
      const body = response as Partial<ErrorBody> & { message?: unknown };
      const message = Array.isArray(body.message)
        ? body.message.join('; ')
        : String(body.message ?? error.message);
      return {
        ...body,
        statusCode: status,
        error: typeof body.error === 'string' ? snake(body.error) : snake(error.name),
        message,
      };
    }
    return { statusCode: status, error: snake(HttpStatus[status] ?? error.name), message: String(response) };
  }
  const bodyError = error as { code?: string; statusCode?: number };
  if (
    typeof bodyError?.statusCode === 'number' &&
    typeof bodyError.code === 'string' &&
    BODY_ERRORS[bodyError.code]
  ) {
    return { statusCode: bodyError.statusCode, ...BODY_ERRORS[bodyError.code] };
  }
  // Fastify's JSON parser marks a syntax error with status 400 and no code.
  if (error instanceof SyntaxError && bodyError.statusCode === 400) {
    return { statusCode: 400, error: 'invalid_json', message: 'the body is not valid JSON' };
  }
  return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: 'internal', message: 'internal error' };
}

/** One place where errors become HTTP: EntityError codes, Nest HttpExceptions, Fastify's body refusals. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<FastifyReply>();
    const body = errorResponse(error);
    if (body.statusCode >= 500)
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    if (response.sent) return;
    void response.status(body.statusCode).send(body);
  }
}
