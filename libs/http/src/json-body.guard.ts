import { CanActivate, ExecutionContext, Injectable, UnsupportedMediaTypeException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/** `application/json` or a `+json` type such as `application/merge-patch+json`. */
export function isJsonContentType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Refuses a write that does not declare a JSON body with 415. The HTTP app (createHttpApp) already
 * refuses a body of any other type; this also catches a write with no body and no Content-Type,
 * which would otherwise reach validation as an empty body and read as a 400.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (WRITES.has(request.method) && !isJsonContentType(request.headers['content-type'])) {
      throw new UnsupportedMediaTypeException(`${request.method} needs Content-Type: application/json`);
    }
    return true;
  }
}
