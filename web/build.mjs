// Bundles the browser app into web/dist/public with esbuild: one script, the page and its style.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist', 'public');
fs.mkdirSync(out, { recursive: true });
for (const file of fs.readdirSync(path.join(here, 'public'))) fs.copyFileSync(path.join(here, 'public', file), path.join(out, file));
await build({
  entryPoints: [path.join(here, 'src', 'browser', 'main.ts')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'iife',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
