import { decodeEnvelope, encodeEnvelope, EnvelopeDecodeError, EventEnvelope, fieldMap } from './envelope';

const event: EventEnvelope<{ total: number }> = {
  id: '0190f6a4-7c1e-7000-8000-000000000001',
  type: 'order.created',
  source: 'events',
  subject: 'order-1',
  time: '2026-11-21T10:00:00.000Z',
  sequence: 1,
  correlationid: 'corr-1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  data: { total: 12.5 },
};

describe('envelope', () => {
  it('round-trips through flat fields', () => {
    const fields = encodeEnvelope(event);
    expect(fieldMap(fields)).toMatchObject({ type: 'order.created', sequence: '1', data: '{"total":12.5}' });
    expect(decodeEnvelope(fields)).toEqual({
      specversion: '1.0',
      ...event,
      datacontenttype: 'application/json',
    });
  });

  it('decodes a field list as its field map: last value wins, other fields and a trailing name ignored', () => {
    const fields = [
      ...encodeEnvelope(event),
      'extra',
      'x',
      'subject',
      'order-2',
      'type',
      'order.paid',
      'data',
    ];
    expect(decodeEnvelope(fields)).toEqual(decodeEnvelope(fieldMap(fields)));
    expect(decodeEnvelope(fields)).toMatchObject({
      subject: 'order-2',
      type: 'order.paid',
      data: { total: 12.5 },
    });
    expect(decodeEnvelope(fields)).not.toHaveProperty('extra');
  });

  it('reads entries written before specversion existed, and refuses another version', () => {
    const fields = fieldMap(encodeEnvelope(event));
    delete fields['specversion'];
    expect(decodeEnvelope(fields)).toMatchObject({ specversion: '1.0', id: event.id });
    expect(() => decodeEnvelope({ ...fields, specversion: '0.3' })).toThrow(
      /field "specversion" must be 1.0/,
    );
  });

  it.each([
    ['type', (f: Record<string, string>) => delete f['type'], 'is missing'],
    ['data', (f: Record<string, string>) => (f['data'] = '{oops'), 'is not valid JSON'],
    ['time', (f: Record<string, string>) => (f['time'] = 'yesterday'), 'RFC 3339'],
    ['sequence', (f: Record<string, string>) => (f['sequence'] = '-2'), 'non-negative integer'],
  ])('names the bad field %s', (field, spoil, reason) => {
    const fields = fieldMap(encodeEnvelope(event));
    spoil(fields);
    expect(() => decodeEnvelope(fields)).toThrow(EnvelopeDecodeError);
    expect(() => decodeEnvelope(fields)).toThrow(new RegExp(`field "${field}" .*${reason}`));
  });
});
