import fs from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above with the root package.json (name "ticketing"). */
export function repoRoot(): string {
  for (const start of [process.cwd(), __dirname]) {
    let dir = start;
    for (;;) {
      const manifest = path.join(dir, 'package.json');
      if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'ticketing') return dir;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error('cannot find the ticketing repository root (package.json named "ticketing")');
}

/** Where `infra/local/provision.mjs` puts the servers it builds (git-ignored). */
export function localDir(...parts: string[]): string {
  return path.join(repoRoot(), '.local', ...parts);
}

/** A binary from `.local/bin`, else from PATH. */
export function findBinary(name: string): string {
  const local = localDir('bin', name);
  if (fs.existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found: run \`node infra/local/provision.mjs\` (npm test and npm start do it)`);
}
