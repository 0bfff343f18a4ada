import { spawn } from 'node:child_process';
import path from 'node:path';
import type { StressSummary } from '../stress/run-stress';

/**
 * `npm run stress -- --json …` as a user runs it: the built CLI in a process of its own, so its
 * figures are the ones a user reproduces (its client does not share a process with the stack).
 */
export function runStressCli(args: string[]): Promise<{ status: number | null; summary: StressSummary }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'stress.js'), '--json', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.on('error', reject);
    child.on('exit', (status) => {
      try {
        resolve({ status, summary: JSON.parse(stdout) as StressSummary });
      } catch {
        reject(new Error(`the stress CLI printed no JSON summary (exit ${status}): ${stdout.slice(0, 500)}`));
      }
    });
  });
}
