import { ConfigError, loadConfig } from '@choreo/config';
import { deadLetterConfig } from './dead-letter.config';

const load = (env: Record<string, string>) => loadConfig({ deadLetters: deadLetterConfig }, env).deadLetters;

describe('deadLetterConfig', () => {
  it('keeps dead letters 14 days and alarms past 10000 by default', () => {
    expect(load({})).toEqual({ maxAgeMs: 14 * 86_400_000, alertLength: 10_000 });
  });

  it('reads days, hours and minutes, and 0 for forever', () => {
    expect(load({ DEAD_LETTER_RETENTION: '30d' }).maxAgeMs).toBe(30 * 86_400_000);
    expect(load({ DEAD_LETTER_RETENTION: '36h' }).maxAgeMs).toBe(36 * 3_600_000);
    expect(load({ DEAD_LETTER_RETENTION: '90m' }).maxAgeMs).toBe(90 * 60_000);
    expect(load({ DEAD_LETTER_RETENTION: '0', DEAD_LETTER_ALERT_LENGTH: '0' })).toEqual({
      maxAgeMs: 0,
      alertLength: 0,
    });
  });

  it('names each bad variable and what it expects', () => {
    const bad = () => load({ DEAD_LETTER_RETENTION: '2 weeks', DEAD_LETTER_ALERT_LENGTH: 'many' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/DEAD_LETTER_RETENTION: must look like 14d, 36h or 90m/);
    expect(bad).toThrow(/DEAD_LETTER_ALERT_LENGTH: .*expected: entries past which/);
  });
});
