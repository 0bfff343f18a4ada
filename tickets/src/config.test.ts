import { ConfigError } from '@ticketing/common/testing';
import { loadConfig, REQUIRED_ENV } from './config';

const validEnv = { MONGO_URL: 'mongodb://tickets-mongo:27017/tickets', NATS_URL: 'nats://nats:4222', JWT_KEY: 'a-long-enough-key' };

describe('tickets config', () => {
  it('when the required variables are set, then the rest take their defaults and the result is frozen', () => {
    const config = loadConfig(validEnv);
    expect(config).toMatchObject({ ...validEnv, PORT: 3000, JETSTREAM_REPLICAS: 1, LOG_LEVEL: 'info' });
    expect(config.NATS_CLIENT_NAME).toEqual(expect.any(String));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each(REQUIRED_ENV)('when %s is missing, then loading fails with one line naming it', (name) => {
    const env: NodeJS.ProcessEnv = { ...validEnv, [name]: undefined };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(`${name} is required`);
  });

  it('when REQUIRED_ENV is compared with what loading needs, then they are the same list (the manifests are checked against it)', () => {
    const needed = Object.keys(validEnv).filter((name) => {
      try {
        loadConfig({ ...validEnv, [name]: undefined });
        return false;
      } catch {
        return true;
      }
    });
    expect([...REQUIRED_ENV].sort()).toEqual(needed.sort());
  });

  it('when a value is malformed, then loading fails naming the variable', () => {
    expect(() => loadConfig({ ...validEnv, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ ...validEnv, MONGO_URL: 'http://x' })).toThrow(/MONGO_URL/);
  });
});
