import { UnsupportedMediaTypeException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/** `application/json` or a `+json` type such as `application/merge-patch+json`. */
export function isJsonContentType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Refuses a write whose body is not JSON with 415 (the body parser registered by runApp only
 * reads JSON, so anything else would reach validation as an empty body and read as a 400).
 */
export function requireJsonBody(request: Request, _response: Response, next: NextFunction): void {
  if (WRITES.has(request.method) && !isJsonContentType(request.headers['content-type'])) {
    next(new UnsupportedMediaTypeException(`${request.method} needs Content-Type: application/json`));
    return;
  }
  next();
}
