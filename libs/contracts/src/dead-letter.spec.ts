import { deadLetterFields, originalFields } from './dead-letter';

describe('dead-letter fields', () => {
  const origin = {
    stream: 'orders',
    entryId: '1700000000000-0',
    group: 'billing',
    consumer: 'billing-pod-1',
    attempts: 5,
    error: 'payment service unavailable',
  };

  it('keeps every original field and appends the dlq_* fields', () => {
    const fields = deadLetterFields(
      ['id', 'e-1', 'type', 'order.created', 'data', '{}'],
      origin,
      new Date(0),
    );
    expect(fields).toEqual([
      'id',
      'e-1',
      'type',
      'order.created',
      'data',
      '{}',
      'dlq_stream',
      'orders',
      'dlq_id',
      '1700000000000-0',
      'dlq_group',
      'billing',
      'dlq_consumer',
      'billing-pod-1',
      'dlq_attempts',
      '5',
      'dlq_error',
      'payment service unavailable',
      'dlq_failed_at',
      '1970-01-01T00:00:00.000Z',
    ]);
  });

  it('replaces the dlq_* fields of an earlier dead-lettering instead of repeating them', () => {
    const first = deadLetterFields(['id', 'e-1'], origin, new Date(0));
    const again = deadLetterFields(first, { ...origin, attempts: 2, error: 'still down' }, new Date(1000));
    expect(again.filter((_, i) => i % 2 === 0)).toEqual([
      'id',
      'dlq_stream',
      'dlq_id',
      'dlq_group',
      'dlq_consumer',
      'dlq_attempts',
      'dlq_error',
      'dlq_failed_at',
    ]);
    expect(again).toContain('still down');
    expect(originalFields(again)).toEqual(['id', 'e-1']);
  });

  it('cuts a huge error message', () => {
    const fields = deadLetterFields(['id', 'e-1'], { ...origin, error: 'x'.repeat(10_000) });
    const error = fields[fields.indexOf('dlq_error') + 1];
    expect(error.length).toBeLessThan(2_100);
    expect(error.endsWith('…')).toBe(true);
  });
});
