import { ConfigError } from '@ticketing/common/testing';
import { REQUIRED_ENV, loadConfig } from './config';

const minimal = { MONGO_URL: 'mongodb://localhost:27017/orders', NATS_URL: 'nats://localhost:4222', JWT_KEY: 'a-long-enough-key' };

describe('orders configuration', () => {
  it('when only the required variables are set, then the rest takes its defaults (a 15-minute order window)', () => {
    const config = loadConfig(minimal);
    expect(config).toMatchObject({
      ...minimal,
      PORT: 3000,
      ORDER_EXPIRATION_SECONDS: 900,
      EXPIRY_CHECK_INTERVAL_MS: 1000,
      JETSTREAM_REPLICAS: 1,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('when the order window and check interval are given, then they are used as numbers', () => {
    expect(loadConfig({ ...minimal, ORDER_EXPIRATION_SECONDS: '60', EXPIRY_CHECK_INTERVAL_MS: '250' })).toMatchObject({
      ORDER_EXPIRATION_SECONDS: 60,
      EXPIRY_CHECK_INTERVAL_MS: 250,
    });
  });

  it('when a required variable is missing, then one error names each of them', () => {
    for (const name of REQUIRED_ENV) {
      const env: Record<string, string> = { ...minimal };
      delete env[name];
      expect(() => loadConfig(env)).toThrow(new ConfigError(`config: ${name} is required`));
    }
  });

  it.each([['0'], ['-5'], ['soon'], ['1.5']])('when ORDER_EXPIRATION_SECONDS is %s, then start-up is refused', (value) => {
    expect(() => loadConfig({ ...minimal, ORDER_EXPIRATION_SECONDS: value })).toThrow(/ORDER_EXPIRATION_SECONDS/);
  });
});
