import { CloudEvent, ValidationError } from 'cloudevents';
import { encodeEnvelope, fieldMap } from './envelope';

// A stream entry as the official CloudEvents SDK reads it: every attribute as written, `data` parsed
// from its JSON text (datacontenttype says so).
const cloudEventOf = (fields: readonly string[]) => {
  const { data, ...attributes } = fieldMap(fields);
  return new CloudEvent({ ...attributes, data: JSON.parse(data) as unknown });
};

describe('a stream entry is a CloudEvent (the cloudevents SDK validates it)', () => {
  const fields = encodeEnvelope({
    id: '0190f6a4-7c1e-7000-8000-000000000001',
    type: 'order.created',
    source: 'events',
    subject: '0190f6a4-7c1e-7000-8000-0000000000aa',
    time: '2026-11-21T10:00:00.000Z',
    sequence: 1,
    correlationid: 'corr-1',
    causationid: '0190f6a4-7c1e-7000-8000-000000000000',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    data: { order_id: '0190f6a4-7c1e-7000-8000-0000000000aa', total: '12.50' },
  });

  it('writes specversion 1.0 first, and the SDK accepts the entry as written', () => {
    expect(fields.slice(0, 2)).toEqual(['specversion', '1.0']);
    const event = cloudEventOf(fields);
    expect(event.validate()).toBe(true);
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'order.created',
      source: 'events',
      datacontenttype: 'application/json',
      correlationid: 'corr-1',
      sequence: '1',
    });
    expect(event.data).toEqual({ order_id: '0190f6a4-7c1e-7000-8000-0000000000aa', total: '12.50' });
  });

  it('is a real check: an entry that breaks the spec is refused by the SDK', () => {
    const spoiled = fieldMap(fields);
    delete spoiled['type'];
    expect(() => cloudEventOf(Object.entries(spoiled).flat())).toThrow(ValidationError);
  });
});
