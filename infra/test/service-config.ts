/**
 * Reads the environment variables a service refuses to start without. Each service declares them
 * in `<service>/src/config.ts` as
 *   export const REQUIRED_ENV = ['MONGO_URL', 'NATS_URL', 'JWT_KEY'] as const;
 * so the manifests are checked against the code instead of a list copied into the test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type ServiceName } from './manifests';

const REQUIRED_ENV_PATTERN = /REQUIRED_ENV\s*(?::[^=]*)?=\s*\[([^\]]*)\]/;

/** The names in a `REQUIRED_ENV = [...]` declaration, or undefined if the source has none. */
export function parseRequiredEnv(source: string): string[] | undefined {
  const list = REQUIRED_ENV_PATTERN.exec(source)?.[1];
  if (list === undefined) return undefined;
  return [...list.matchAll(/['"`]([A-Z][A-Z0-9_]*)['"`]/g)].map((m) => m[1]);
}

export function requiredEnvOf(service: ServiceName): string[] {
  const path = `${service}/src/config.ts`;
  const absolute = join(ROOT, path);
  if (!existsSync(absolute)) {
    throw new Error(
      `${path} is missing: it must export REQUIRED_ENV, the variables ${service} needs, so the manifests can be checked against it`,
    );
  }
  const names = parseRequiredEnv(readFileSync(absolute, 'utf8'));
  if (names === undefined) throw new Error(`${path} has no \`export const REQUIRED_ENV = [...]\` list`);
  if (names.length === 0) throw new Error(`${path}: REQUIRED_ENV lists no variable names`);
  return names;
}
