import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiError, FieldProblem } from './api-error';

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

function snake(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** Maps an error to the status and body a client gets. Unknown errors are 500 and say nothing more. */
export function errorResponse(error: unknown): ErrorBody {
  if (error instanceof ApiError) {
    return {
      ...error.details,
      statusCode: error.statusCode,
      error: error.error,
      message: error.message,
      ...(error.statusCode === 400 ? { issues: error.problems } : {}),
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
  return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: 'internal', message: 'internal error' };
}

/**
 * One place where errors become HTTP: ApiErrors (EntityError among them) and Nest HttpExceptions (Nest hands Fastify's
 * own refusals, e.g. a body over the limit, over as HttpExceptions with Fastify's status and message).
 */
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
