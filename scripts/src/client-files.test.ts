import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@ticketing/common/testing';

/**
 * openapi-typescript loads an ES module that jest's module system cannot require, so the check
 * runs in a plain node process, on the build `npm test` makes first.
 */
function generate(...args: string[]) {
  return spawnSync(process.execPath, [path.join(repoRoot(), 'scripts', 'dist', 'generate-client.js'), ...args], { encoding: 'utf8' });
}

describe('the generated client', () => {
  it('is up to date with the OpenAPI documents (else run `npm run generate:client`)', () => {
    const run = generate('--check');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('when a generated file differs from what the documents give, then the check fails naming it', () => {
    const file = path.join(repoRoot(), 'client', 'openapi', 'orders.json');
    const committed = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, committed.replace('"3.1.0"', '"3.0.0"'));
      const run = generate('--check');
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('client/openapi/orders.json');
    } finally {
      fs.writeFileSync(file, committed);
    }
  });
});
