// A scrambled Halton sequence: one prime base per coordinate, a seeded permutation of the
// non-zero digits per base (breaking the strong correlations between high bases that plain
// Halton has in its first points) and a seeded Cranley–Patterson shift. Point i depends only on
// (seed, i), so the initial design continues across calls instead of restarting.
import type { Rng } from '../rng.js';

const PRIMES = firstPrimes(64);

function firstPrimes(count: number): number[] {
  const out: number[] = [];
  for (let k = 2; out.length < count; k++) if (out.every((p) => k % p !== 0)) out.push(k);
  return out;
}

export class ScrambledHalton {
  private readonly bases: number[];
  private readonly permutations: number[][];
  private readonly shifts: number[];

  constructor(readonly dims: number, rng: Rng) {
    // Beyond the tabled primes, coordinates reuse bases with fresh permutations and shifts.
    this.bases = Array.from({ length: dims }, (_, j) => PRIMES[j % PRIMES.length] as number);
    this.permutations = this.bases.map((b) => {
      const digits = Array.from({ length: b - 1 }, (_, k) => k + 1);
      for (let k = digits.length - 1; k > 0; k--) {
        const r = rng.int(k + 1);
        [digits[k], digits[r]] = [digits[r] as number, digits[k] as number];
      }
      return [0, ...digits]; // 0 stays 0 so that the digit expansion stays finite
    });
    this.shifts = this.bases.map(() => rng.next());
  }

  point(index: number): Float64Array {
    const u = new Float64Array(this.dims);
    for (let j = 0; j < this.dims; j++) {
      const base = this.bases[j] as number;
      const perm = this.permutations[j] as number[];
      let i = index + 1; // skip the all-zero first point
      let f = 1 / base;
      let v = 0;
      while (i > 0) {
        v += (perm[i % base] as number) * f;
        i = Math.floor(i / base);
        f /= base;
      }
      const shifted = v + (this.shifts[j] as number);
      u[j] = shifted - Math.floor(shifted);
    }
    return u;
  }
}
