import { ConflictException, HttpException, NotFoundException } from '@nestjs/common';
import { ApiError } from './api-error';
import { errorResponse } from './error.filter';
import { parseIfMatch } from './etag';

describe('errorResponse', () => {
  it('answers an ApiError with its own status and code, naming the fields of a 400', () => {
    expect(errorResponse(ApiError.invalid([{ field: 'price', message: 'must be >= 0' }], 'body'))).toEqual({
      statusCode: 400,
      error: 'validation_failed',
      message: 'invalid body: price: must be >= 0',
      issues: [{ field: 'price', message: 'must be >= 0' }],
    });
    expect(
      errorResponse(new ApiError(409, 'unique_violation', 'taken', [{ field: 'sku', message: 'x' }], 'sku')),
    ).toEqual({ statusCode: 409, error: 'unique_violation', message: 'taken', field: 'sku' });
  });

  it('keeps the body of Nest exceptions and maps body-parser refusals', () => {
    expect(errorResponse(new NotFoundException('no such order'))).toEqual({
      statusCode: 404,
      error: 'not_found',
      message: 'no such order',
    });
    expect(
      errorResponse(
        new ConflictException({
          statusCode: 409,
          error: 'illegal_transition',
          message: 'no',
          current: 'created',
        }),
      ),
    ).toEqual({ statusCode: 409, error: 'illegal_transition', message: 'no', current: 'created' });
    // How Nest hands over Fastify's refusal of a body over the limit.
    expect(errorResponse(new HttpException('Request body is too large', 413))).toEqual({
      statusCode: 413,
      error: 'payload_too_large',
      message: 'Request body is too large',
    });
    expect(errorResponse(new Error('boom'))).toEqual({
      statusCode: 500,
      error: 'internal',
      message: 'internal error',
    });
  });
});

describe('parseIfMatch', () => {
  it('reads our ETags, ignores * and refuses anything else as stale', () => {
    expect(parseIfMatch('"3"')).toBe(3);
    expect(parseIfMatch('W/"12"')).toBe(12);
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('*')).toBeUndefined();
    expect(() => parseIfMatch('"abc"')).toThrow(expect.objectContaining({ statusCode: 412 }));
  });
});
