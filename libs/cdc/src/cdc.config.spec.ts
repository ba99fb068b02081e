import { ConfigError, loadConfig } from '@choreo/config';
import { cdcConfig } from './cdc.config';

describe('cdcConfig', () => {
  it('defaults to the choreo publication and slot, publishing every REPLICA IDENTITY FULL table', () => {
    expect(loadConfig({ cdc: cdcConfig }, {}).cdc).toEqual({
      publication: 'choreo',
      slot: 'choreo_relay',
      tables: 'auto',
      heartbeatIntervalMs: 10_000,
      statusIntervalMs: 1_000,
      chunkEvents: 1_000,
      maxQueuedFrames: 5_000,
      tableRefreshMs: 10_000,
    });
  });

  it('reads an explicit table list', () => {
    const { cdc } = loadConfig({ cdc: cdcConfig }, { CDC_TABLES: 'product, sales.invoice' });
    expect(cdc.tables).toEqual(['product', 'sales.invoice']);
  });

  it('names every bad variable', () => {
    expect(() =>
      loadConfig({ cdc: cdcConfig }, { CDC_SLOT: 'Bad-Slot', CDC_TABLES: 'a;drop', CDC_CHUNK_EVENTS: '0' }),
    ).toThrow(ConfigError);
    try {
      loadConfig({ cdc: cdcConfig }, { CDC_SLOT: 'Bad-Slot', CDC_TABLES: 'a;drop', CDC_CHUNK_EVENTS: '0' });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        'CDC_CHUNK_EVENTS',
        'CDC_SLOT',
        'CDC_TABLES',
      ]);
    }
  });
});
