// The benches' command-line flags, read by Node's parseArgs (strict: an unknown flag, a value
// given to a switch or a flag without its value is an error), with the readings they share.
import { parseArgs } from 'node:util';

export interface BenchFlags {
  has(name: string): boolean;
  get(name: string): string | undefined;
  /** A positive integer; `fallback` when not given. */
  int(name: string, fallback: number): number;
  /** A comma-separated list as given; undefined when not given. */
  items(name: string): string[] | undefined;
  /** A comma-separated list, each item one of `known` (`what` names one); all of `known` when not given. */
  list(name: string, known: readonly string[], what: string): string[];
}

export function parseBenchFlags(argv: readonly string[], flags: { switches: readonly string[]; values: readonly string[] }): BenchFlags {
  const options: Record<string, { type: 'boolean' | 'string' }> = {};
  for (const name of flags.switches) options[name] = { type: 'boolean' };
  for (const name of flags.values) options[name] = { type: 'string' };
  const values: Record<string, unknown> = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  const get = (name: string) => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const items = (name: string) => get(name)?.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    has: (name) => values[name] !== undefined,
    get,
    int(name, fallback) {
      const raw = get(name);
      const value = raw === undefined ? fallback : Number(raw);
      if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer (got ${raw})`);
      return value;
    },
    items,
    list(name, known, what) {
      const given = items(name);
      for (const g of given ?? []) if (!known.includes(g)) throw new Error(`unknown ${what} ${g} (known: ${known.join(', ')})`);
      return given ?? [...known];
    },
  };
}
