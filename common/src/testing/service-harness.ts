import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import mongoose, { type Model } from 'mongoose';
import type { OpenApiDocument } from '../api/openapi-kit';
import { JetStreamBus } from '../bus/jetstream-bus';
import { serviceReadiness } from '../http/readiness';
import { silentLogger, type Logger } from '../logger';
import { OutboxRelay, type OutboxRelayOptions } from '../outbox/relay';
import type { ServiceAppDeps, ServiceListener } from '../service/start-service';
import { contractChecked, declaredRoutes, documentedRoutes, failOnContractViolations } from './contract';
import { testMongoUrl, TEST_JWT_KEY } from './helpers';
import { startNatsServer, type NatsServerHandle } from './nats-server';

export interface HarnessOptions {
  /** Start the service's listeners (off by default: route tests see no event handling they did not cause). */
  listeners?: boolean;
  /** Relay settings on top of the harness's (a 200 ms sweep). */
  relay?: OutboxRelayOptions;
  /** Where exchanges that do not match the OpenAPI document are collected (a fresh list if not given). */
  violations?: string[];
}

/** A service wired as its service.ts wires it, on real servers of its own. */
export interface ServiceHarness<L> {
  /** This harness's database, to reconnect to it as a restarted process would. */
  mongoUrl: string;
  nats: NatsServerHandle;
  bus: JetStreamBus;
  relay: OutboxRelay;
  /** Always built; listening only with `listeners: true`. */
  listeners: L;
  /** The app behind the OpenAPI contract checker (see `violations`). */
  app: Express;
  /** Exchanges that did not match the OpenAPI document. */
  violations: string[];
  close(): Promise<void>;
}

/** What the harness needs of a service: the same parts its service.ts hands to `startEventService`. */
export interface ServiceUnderTest<L, O extends HarnessOptions> {
  name: string;
  connectDatabase(url: string): Promise<void>;
  outboxModel: Model<any>;
  openApi: OpenApiDocument;
  createListeners(bus: JetStreamBus, deps: { relay: OutboxRelay; logger: Logger }): L;
  stats(listeners: L, relay: OutboxRelay): unknown;
  createApp(deps: Omit<ServiceAppDeps, 'metrics' | 'trustProxyHops'>, options: O): Express;
}

/**
 * Real servers for one test file: a nats-server of its own and a fresh database on the run's
 * MongoDB-protocol server, with the outbox relay, the listeners and the app built as the service
 * builds them. Every exchange with the app is checked against the OpenAPI document.
 */
export async function startServiceHarness<L extends { [K in keyof L]: ServiceListener }, O extends HarnessOptions>(
  service: ServiceUnderTest<L, O>,
  options: O,
): Promise<ServiceHarness<L>> {
  const mongoUrl = testMongoUrl(service.name);
  const nats = await startNatsServer();
  await service.connectDatabase(mongoUrl);
  const bus = await JetStreamBus.connect({ servers: nats.url, name: `${service.name}-test` });
  const relay = new OutboxRelay(service.outboxModel, bus, { sweepIntervalMs: 200, ...options.relay });
  const listeners = service.createListeners(bus, { relay, logger: silentLogger });
  const each: ServiceListener[] = Object.values(listeners);
  const violations = options.violations ?? [];
  const app = service.createApp(
    { jwtKey: TEST_JWT_KEY, relay, logger: silentLogger, readiness: serviceReadiness(bus), stats: () => service.stats(listeners, relay) },
    options,
  );
  if (options.listeners) for (const listener of each) await listener.listen();
  relay.start();
  return {
    mongoUrl,
    nats,
    bus,
    relay,
    listeners,
    app: contractChecked(app, service.openApi, violations).app,
    violations,
    close: async () => {
      await Promise.all(each.map((listener) => listener.close()));
      await relay.stop();
      await bus.close();
      if (mongoose.connection.readyState === mongoose.ConnectionStates.connected) await mongoose.connection.dropDatabase();
      await mongoose.disconnect();
      await nats.destroy();
    },
  };
}

/**
 * The harness for the tests of one file: started before them, closed after them, and a test whose
 * exchanges do not match the OpenAPI document fails. Call at the top of a `describe`; the object
 * is filled in by `beforeAll`, so read its fields inside tests and hooks.
 */
export function useServiceHarness<L extends { [K in keyof L]: ServiceListener }, O extends HarnessOptions>(
  service: ServiceUnderTest<L, O>,
  options: O,
): ServiceHarness<L> {
  const harness = {} as ServiceHarness<L>;
  const violations: string[] = [];
  failOnContractViolations(violations);
  beforeAll(async () => {
    Object.assign(harness, await startServiceHarness(service, { ...options, violations }));
  });
  afterAll(async () => {
    await harness.close?.();
  });
  return harness;
}

/** A service's `startHarness` and `useHarness` (its test-kit/harness.ts), bound to it. */
export function serviceHarnesses<L extends { [K in keyof L]: ServiceListener }, O extends HarnessOptions>(service: ServiceUnderTest<L, O>) {
  return {
    /** Real servers for a test that manages their lifetime itself (`close()` when done). */
    startHarness: (options?: O): Promise<ServiceHarness<L>> => startServiceHarness(service, options ?? ({} as O)),
    /** Real servers for the tests of one `describe`: started before them, closed after them. */
    useHarness: (options?: O): ServiceHarness<L> => useServiceHarness(service, options ?? ({} as O)),
  };
}

/**
 * The tests of a service's OpenAPI document, the same for every service: it is served as JSON at
 * `/api/<service>/openapi.json` without signing in, and it documents exactly the app's routes.
 */
export function describeOpenApiDocument<L extends { [K in keyof L]: ServiceListener }, O extends HarnessOptions>(
  service: ServiceUnderTest<L, O>,
): void {
  describe(`the ${service.name} OpenAPI document`, () => {
    const h = useServiceHarness(service, {} as O);

    it(`when asked at /api/${service.name}/openapi.json, then it is served as JSON without signing in (not taken for a record id)`, async () => {
      const server = h.app.listen(0, '127.0.0.1');
      try {
        await new Promise((resolve) => server.once('listening', resolve));
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/${service.name}/openapi.json`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        const body = (await res.json()) as { openapi: string };
        expect(body).toEqual(JSON.parse(JSON.stringify(service.openApi)));
        expect(body.openapi).toBe('3.1.0');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('describes exactly the routes the app has: none undocumented, none documented that does not exist', () => {
      const app = service.createApp(
        { jwtKey: TEST_JWT_KEY, relay: h.relay, logger: silentLogger, readiness: {}, stats: () => ({}) },
        {} as O,
      );
      const routes = declaredRoutes(app).filter((r) => r.split(' ')[1].startsWith('/api/'));
      const documented = documentedRoutes(service.openApi);
      expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
      expect(documented.filter((r) => !routes.includes(r))).toEqual([]);
      expect(routes.sort()).toEqual(documented.sort());
    });
  });
}
