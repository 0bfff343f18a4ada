import { z } from 'zod';
import { ConfigError, edgeLimits, httpTimeoutsOf, parseConfig, serviceEnvShape } from './config';
import { DEFAULT_RATE_LIMIT } from './http/client-rate-limit';
import { DEFAULT_LISTING_LIMIT } from './http/listing-gate';

const valid = { MONGO_URL: 'mongodb://localhost:27017/tickets', NATS_URL: 'nats://localhost:4222', JWT_KEY: 'a-long-enough-key' };

describe('parseConfig', () => {
  it('when every variable is valid, then a frozen typed object with defaults', () => {
    const config = parseConfig(serviceEnvShape, valid);
    expect(config.PORT).toBe(3000);
    expect(config.JETSTREAM_REPLICAS).toBe(1);
    expect(config.NATS_CLIENT_NAME).toMatch(/-\d+$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('when variables are missing or invalid, then one line names each of them', () => {
    const env = { NATS_URL: 'http://wrong', JWT_KEY: 'a-long-enough-key', PORT: 'eighty' };
    expect(() => parseConfig(serviceEnvShape, env)).toThrow(ConfigError);
    try {
      parseConfig(serviceEnvShape, env);
    } catch (err) {
      const message = (err as Error).message;
      expect(message).not.toMatch(/\n/);
      expect(message).toMatch(/^config: /);
      expect(message).toMatch(/MONGO_URL is required/);
      expect(message).toMatch(/NATS_URL must be one or more nats:\/\/ URLs/);
      expect(message).toMatch(/PORT/);
    }
  });

  it('when no event bus is named, then JetStream with the NATS Streaming cluster id defaulting to ticketing', () => {
    expect(parseConfig(serviceEnvShape, valid)).toMatchObject({ EVENT_BUS: 'jetstream', STAN_CLUSTER_ID: 'ticketing' });
    expect(parseConfig(serviceEnvShape, { ...valid, EVENT_BUS: 'nats-streaming', STAN_CLUSTER_ID: 'prod-stan' })).toMatchObject({
      EVENT_BUS: 'nats-streaming',
      STAN_CLUSTER_ID: 'prod-stan',
    });
  });

  it.each([
    ['EVENT_BUS', 'kafka', /^config: EVENT_BUS must be jetstream or nats-streaming$/],
    ['EVENT_BUS', 'stan', /^config: EVENT_BUS must be jetstream or nats-streaming$/],
    ['STAN_CLUSTER_ID', 'my cluster', /^config: STAN_CLUSTER_ID must be letters, digits, - or _$/],
    ['HOST', 'http://0.0.0.0', /^config: HOST must be an IP address or a host name$/],
    ['HOST', 'two words', /^config: HOST must be an IP address or a host name$/],
  ])('when %s is %s, then start-up is refused with one line naming it', (name, value, line) => {
    expect(() => parseConfig(serviceEnvShape, { ...valid, [name]: value })).toThrow(line);
  });

  it('when HOST is not set, then loopback; containers set every interface (IPv4 or IPv6) or a name', () => {
    expect(parseConfig(serviceEnvShape, valid).HOST).toBe('127.0.0.1');
    for (const host of ['0.0.0.0', '::', '::1', 'localhost'])
      expect(parseConfig(serviceEnvShape, { ...valid, HOST: host }).HOST).toBe(host);
  });

  it('when no limit is set, then the rate limit and the listing limit are on with their documented defaults; each can be set, and 0 turns a rate limit off', () => {
    expect(edgeLimits(parseConfig(serviceEnvShape, valid))).toEqual({ rateLimit: DEFAULT_RATE_LIMIT, listingLimit: DEFAULT_LISTING_LIMIT });
    const set = {
      RATE_LIMIT_WINDOW_SECONDS: '10',
      RATE_LIMIT_PER_USER: '0',
      RATE_LIMIT_ANONYMOUS: '50',
      LISTING_CONCURRENCY: '2',
      LISTING_QUEUE: '0',
      LISTING_MAX_WAIT_MS: '250',
    };
    expect(edgeLimits(parseConfig(serviceEnvShape, { ...valid, ...set }))).toEqual({
      rateLimit: { windowMs: 10_000, perUser: 0, perAnonymousClient: 50 },
      listingLimit: { concurrency: 2, queue: 0, maxWaitMs: 250 },
    });
  });

  it.each([
    ['LISTING_CONCURRENCY', '0'],
    ['RATE_LIMIT_ANONYMOUS', '-1'],
    ['RATE_LIMIT_WINDOW_SECONDS', 'a minute'],
  ])('when %s is %s, then start-up is refused naming it', (name, value) => {
    expect(() => parseConfig(serviceEnvShape, { ...valid, [name]: value })).toThrow(new RegExp(`^config: ${name} `));
  });

  it('when a service adds its own variables, then they are parsed too', () => {
    const config = parseConfig({ ...serviceEnvShape, EXPIRY: z.coerce.number().default(900) }, { ...valid, EXPIRY: '60' });
    expect(config.EXPIRY).toBe(60);
  });

  it('when no HTTP timeouts are given, then seconds-long defaults; given ones are used; a non-number is refused', () => {
    expect(httpTimeoutsOf(parseConfig(serviceEnvShape, valid))).toEqual({ headersMs: 10_000, requestMs: 30_000, inactivityMs: 10_000 });
    const given = { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_INACTIVITY_TIMEOUT_MS: '3000' };
    expect(httpTimeoutsOf(parseConfig(serviceEnvShape, { ...valid, ...given }))).toEqual({
      headersMs: 2000,
      requestMs: 5000,
      inactivityMs: 3000,
    });
    expect(() => parseConfig(serviceEnvShape, { ...valid, HTTP_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
  });
});
