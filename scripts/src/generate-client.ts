import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@ticketing/common/testing';
import { renderClientFiles } from './client-files';

/**
 * `npm run generate:client` writes the client's generated files after an API change;
 * `--check` writes nothing and exits 1 naming every file that is stale.
 */
async function main(check: boolean): Promise<void> {
  const root = repoRoot();
  const stale: string[] = [];
  for (const [file, content] of Object.entries(await renderClientFiles())) {
    const target = path.join(root, file);
    if (check) {
      if (!fs.existsSync(target) || fs.readFileSync(target, 'utf8') !== content) stale.push(file);
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
    process.stdout.write(`generate-client: wrote ${file}\n`);
  }
  if (stale.length) {
    process.stderr.write(`generate-client: stale (run \`npm run generate:client\`): ${stale.join(', ')}\n`);
    process.exit(1);
  }
}

main(process.argv.includes('--check')).catch((err) => {
  process.stderr.write(`generate-client: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
