import { CanActivate, ExecutionContext, Injectable, UnsupportedMediaTypeException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isJsonContentType } from './http-app';

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Refuses a write that does not declare a JSON body with 415. createHttpApp already refuses a body
 * of any other type; this also catches a write with no body and no Content-Type,
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
