import path from 'node:path';
import { createLogger, httpTimeoutsOf, loadConfigOrExit, serveHttp } from '@ticketing/common';
import { loadConfig } from './config';
import { createWebApp } from './app';

/** After SIGTERM, how long requests in flight may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

const config = loadConfigOrExit(() => loadConfig());
const logger = createLogger({ service: 'web' }, config.LOG_LEVEL);

async function main() {
  const app = createWebApp({
    jwtKey: config.JWT_KEY,
    maxTokenLifetimeSeconds: config.JWT_MAX_LIFETIME_SECONDS,
    devSignIn: config.DEV_SIGN_IN,
    publicDir: path.join(__dirname, '..', 'public'),
    logger,
    trustProxyHops: config.TRUST_PROXY_HOPS,
  });
  const http = await serveHttp(app, config.PORT, { host: config.HOST, timeouts: httpTimeoutsOf(config) });
  logger.info({ host: config.HOST, port: config.PORT, devSignIn: config.DEV_SIGN_IN }, 'web: listening');
  const stop = () => {
    setTimeout(() => process.exit(0), SHUTDOWN_TIMEOUT_MS).unref();
    void http.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  logger.error({ err }, 'web: failed to start');
  process.exit(1);
});
