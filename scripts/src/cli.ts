import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Value<T> = T extends { type: 'boolean' } ? boolean : string;
/** What `parseArgs` returns for these options: an option with a default is always there. */
export type Values<O extends Options> = { [K in keyof O]: O[K] extends { default: unknown } ? Value<O[K]> : Value<O[K]> | undefined };

/**
 * The command line of one of our scripts, parsed strictly: `--help` (or `-h`) prints `usage` and
 * exits 0; an unknown or malformed option prints what is wrong and the usage, and exits 2, rather
 * than a stack trace.
 */
export function parseCommandLine<O extends Options>(usage: string, options: O, args: string[] = process.argv.slice(2)): Values<O> {
  try {
    const { values } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true });
    if ((values as { help?: boolean }).help) {
      process.stdout.write(`${usage.trim()}\n`);
      process.exit(0);
    }
    return values as unknown as Values<O>;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${usage.trim()}\n`);
    process.exit(2);
  }
}

/** The value of a whole-number option, at least `min`; anything else exits 2 naming the option. */
export function wholeNumber(script: string, option: string, value: string, min = 1): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`${script}: --${option} must be a whole number of at least ${min}, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

/** The value of an option that must be one of `choices`; anything else exits 2 naming the option. */
export function oneOf<T extends string>(script: string, option: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    process.stderr.write(`${script}: --${option} must be ${choices.join(' or ')}, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return value as T;
}
