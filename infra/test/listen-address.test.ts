/**
 * The services bind loopback unless HOST says otherwise (safe for a process started by hand or by
 * the local stack). In a container that would leave them unreachable by the Service and the
 * probes, so every image and every Deployment says HOST=0.0.0.0 (or `::`), and the service's own
 * config validation accepts it.
 */
import type { IContainer } from 'kubernetes-models/v1';
import { loadConfig as loadOrdersConfig } from '../../orders/src/config';
import { loadConfig as loadTicketsConfig } from '../../tickets/src/config';
import { loadConfig as loadWebConfig } from '../../web/src/server/config';
import { environment, parseStages, SERVICE_DOCKERFILE, stageNamed, withBuildArgs } from './dockerfile';
import { readRepoFile } from './manifests';
import { appContainer } from './service-routing';

const EVERY_INTERFACE = ['0.0.0.0', '::'];
const APPS = [
  { app: 'tickets', load: loadTicketsConfig, dockerfile: SERVICE_DOCKERFILE },
  { app: 'orders', load: loadOrdersConfig, dockerfile: SERVICE_DOCKERFILE },
  { app: 'web', load: loadWebConfig, dockerfile: 'web/Dockerfile' },
] as const;

/** Literal values as written; stand-ins for what the cluster fills in (pod fields, secrets). */
function podEnvironment(container: IContainer): NodeJS.ProcessEnv {
  return Object.fromEntries((container.env ?? []).map((v) => [v.name, v.value ?? (v.valueFrom ? 'a-value-from-the-cluster' : undefined)]));
}

describe.each(APPS)('$app listens on every interface in a container', ({ app, load, dockerfile }) => {
  it(`${dockerfile} (SERVICE=${app}) sets HOST to every interface in the production stage and the dev stage`, () => {
    const stages = parseStages(withBuildArgs(readRepoFile(dockerfile), { SERVICE: app }));
    const production = stages[stages.length - 1];
    const dev = stageNamed(stages, 'dev');
    for (const stage of dev ? [production, dev] : [production]) {
      const host = environment(stages, stage).HOST;
      expect({ stage: stage.name, everyInterface: EVERY_INTERFACE.includes(host) }).toEqual({ stage: stage.name, everyInterface: true });
    }
  });

  it(`the ${app} Deployment sets HOST to every interface, and ${app}'s config takes it`, () => {
    const config = load(podEnvironment(appContainer(app, `ticketing/${app}`)));
    expect(EVERY_INTERFACE).toContain(config.HOST);
  });

  it(`without HOST, ${app} would bind loopback only (why the two above are needed)`, () => {
    const config = load({ MONGO_URL: 'mongodb://db:27017/x', NATS_URL: 'nats://nats:4222', JWT_KEY: 'a-long-enough-key' });
    expect(config.HOST).toBe('127.0.0.1');
  });
});
