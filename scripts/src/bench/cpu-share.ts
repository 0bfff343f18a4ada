import fs from 'node:fs';

/** Linux's USER_HZ: the unit of the CPU times in /proc/<pid>/stat (100 on every common kernel). */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far (user + system), from /proc; undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // the fields after the command name, which is in parentheses and may itself hold spaces
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` and says how many cores each named process used meanwhile, on average; the current
 * process (the load generator and, in the local stack, the gateway) is measured as `self`. Shows
 * where the machine's CPU went when a figure is limited by it.
 */
export async function withCpuShare<T>(
  pids: Record<string, number | undefined>,
  work: () => Promise<T>,
): Promise<{ result: T; coresUsed: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const selfBefore = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  const self = process.cpuUsage(selfBefore);
  const coresUsed: Record<string, number> = { self: (self.user + self.system) / 1e6 / seconds };
  for (const [name, pid] of Object.entries(pids)) {
    const [start, end] = [before[name], cpuSeconds(pid)];
    if (start !== undefined && end !== undefined) coresUsed[name] = (end - start) / seconds;
  }
  for (const name of Object.keys(coresUsed)) coresUsed[name] = Math.round(coresUsed[name] * 100) / 100;
  return { result, coresUsed };
}
