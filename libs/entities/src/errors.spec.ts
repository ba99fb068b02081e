import { errorResponse } from '@choreo/http';
import { EntityError } from './errors';

describe('EntityError', () => {
  it('carries the HTTP status of each code', () => {
    expect(errorResponse(EntityError.invalid([{ field: 'price', message: 'must be >= 0' }]))).toMatchObject({
      statusCode: 400,
      error: 'validation_failed',
      issues: [{ field: 'price', message: 'must be >= 0' }],
    });
    expect(errorResponse(EntityError.unknownEntity('x'))).toMatchObject({
      statusCode: 404,
      error: 'unknown_entity',
    });
    expect(errorResponse(EntityError.notFound('product', '1'))).toMatchObject({
      statusCode: 404,
      error: 'not_found',
    });
    expect(errorResponse(EntityError.conflict('gadget', 'sku'))).toEqual({
      statusCode: 409,
      error: 'unique_violation',
      message: 'gadget.sku must be unique: another row has that value',
      field: 'sku',
    });
    expect(errorResponse(EntityError.stale('product', '1', 3)).statusCode).toBe(412);
  });
});
