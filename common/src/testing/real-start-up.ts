import { createLogger, type Logger } from '../logger';
import type { RunningService } from '../service/run-service';
import { TEST_JWT_KEY, testMongoUrl } from './helpers';
import { startNatsServer, type NatsServerHandle } from './nats-server';

export interface RealStartUp<C> {
  loadConfig(env: NodeJS.ProcessEnv): C;
  startService(config: C, logger: Logger): Promise<RunningService>;
}

/**
 * A service's real start-up in this process, as its main.ts runs it: configuration read from
 * variables, a real port, a NATS server of this file's own and the service's test database.
 * Registers the jest hooks; `start(env)` starts one copy (stopped after each test) and gives its port.
 */
export function useRealStartUp<C>(
  database: string,
  { loadConfig, startService }: RealStartUp<C>,
): (env?: Record<string, string>) => Promise<number> {
  let nats: NatsServerHandle;
  let service: RunningService | undefined;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });
  afterAll(async () => {
    await nats.destroy();
  });
  return async (env = {}) => {
    const config = loadConfig({ MONGO_URL: testMongoUrl(database), NATS_URL: nats.url, JWT_KEY: TEST_JWT_KEY, PORT: '0', ...env });
    service = await startService(config, createLogger({}, 'silent'));
    return service.port;
  };
}
