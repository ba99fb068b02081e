import { ConfigError, loadConfig } from './config-slice';
import { authConfig, databaseConfig, httpConfig, redisConfig } from './slices';

const slices = { http: httpConfig(3001), redis: redisConfig, db: databaseConfig, auth: authConfig };

describe('loadConfig', () => {
  it('builds typed values with defaults', () => {
    const config = loadConfig(slices, {
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://u@h:5432/d',
      CORS_ORIGINS: 'http://a, http://b',
    });
    expect(config.http).toEqual({
      port: 3001,
      host: '0.0.0.0',
      bodyLimitBytes: 1024 * 1024,
      corsOrigins: ['http://a', 'http://b'],
    });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.db.poolMax).toBe(10);
    expect(config.auth.tokens).toEqual(['choreo-dev-token']);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig(slices, { REDIS_URL: 'nonsense', PORT: 'eighty', DATABASE_POOL_MAX: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\//);
    expect(message).toMatch(/DATABASE_URL: is required but not set/);
    expect(message).toMatch(/PORT: .*expected: a TCP port/);
    expect(message).toMatch(/DATABASE_POOL_MAX/);
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('refuses the development token in production', () => {
    expect(() => loadConfig({ auth: authConfig }, { NODE_ENV: 'production' })).toThrow(
      /API_TOKENS: must be set when NODE_ENV=production/,
    );
  });
});
