// The 32-bit Sobol sequence (Joe & Kuo 2008 direction numbers, Gray-code order as in their
// reference code and SciPy) and its randomisation: Owen-style linear matrix scrambling plus a
// random digital shift, as in SciPy's `Sobol(scramble=True)`. Points are computed directly from
// their index, so the n-th point costs the same whether or not the earlier ones were generated.
import { Rng } from '../rng.js';
import { JOE_KUO_TABLE, MAX_DIMENSIONS } from './directions.js';

export { MAX_DIMENSIONS };

const BITS = 32;
const TWO_32 = 2 ** 32;

interface Primitive {
  readonly s: number;
  readonly a: number;
  readonly m: readonly number[];
}

const PRIMITIVES: readonly Primitive[] = JOE_KUO_TABLE.split('\n').map((line) => {
  const [, s, a, ...m] = line.trim().split(/\s+/).map(Number);
  return { s: s as number, a: a as number, m };
});

/** The 32 direction numbers v_1..v_32 of dimension `dim` (0-based), as 32-bit words. */
function directionNumbers(dim: number): Uint32Array {
  const v = new Uint32Array(BITS);
  if (dim === 0) {
    for (let i = 0; i < BITS; i += 1) v[i] = 2 ** (BITS - 1 - i);
    return v;
  }
  const p = PRIMITIVES[dim - 1];
  if (p === undefined) throw new RangeError(`Sobol: at most ${MAX_DIMENSIONS} dimensions (asked for dimension ${dim + 1})`);
  const { s, a, m } = p;
  for (let i = 0; i < s; i += 1) v[i] = ((m[i] as number) * 2 ** (BITS - 1 - i)) >>> 0;
  // Bratley–Fox recurrence: v_i = v_{i-s} ^ (v_{i-s} >> s) ^ sum_k a_k v_{i-k}.
  for (let i = s; i < BITS; i += 1) {
    let x = (v[i - s] as number) ^ ((v[i - s] as number) >>> s);
    for (let k = 1; k < s; k += 1) if ((a >>> (s - 1 - k)) & 1) x ^= v[i - k] as number;
    v[i] = x >>> 0;
  }
  return v;
}

/** A generator of `dims`-dimensional points; each dimension is 32 direction words plus a shift. */
export interface SobolGenerator {
  readonly dims: number;
  /** The point of index `n` (0-based, n < 2^32) in [0,1)^dims. */
  point(n: number): Float64Array;
}

function generator(directions: readonly Uint32Array[], shifts: readonly number[]): SobolGenerator {
  return {
    dims: directions.length,
    point(n) {
      if (!Number.isInteger(n) || n < 0 || n >= TWO_32) throw new RangeError(`Sobol: index must be an integer in [0, 2^32) (got ${n})`);
      const gray = (n ^ (n >>> 1)) >>> 0;
      return Float64Array.from(directions, (v, d) => {
        let x = shifts[d] as number;
        for (let bit = 0, g = gray; g !== 0; bit += 1, g >>>= 1) if (g & 1) x ^= v[bit] as number;
        return (x >>> 0) / TWO_32;
      });
    },
  };
}

function checkDims(dims: number): void {
  if (!Number.isInteger(dims) || dims < 0 || dims > MAX_DIMENSIONS) {
    throw new RangeError(`Sobol: dimensions must be an integer in [0, ${MAX_DIMENSIONS}] (got ${dims})`);
  }
}

/** The plain Sobol sequence: point 0 is the origin, point 1 is (0.5, …, 0.5). */
export function unscrambledSobol(dims: number): SobolGenerator {
  checkDims(dims);
  const directions = Array.from({ length: dims }, (_, d) => directionNumbers(d));
  return generator(directions, new Array<number>(dims).fill(0));
}

/**
 * Linear matrix scrambling + digital shift: each dimension's digits (most significant first) go
 * through a random lower-triangular binary matrix with a unit diagonal, then are XORed with a
 * random word. Both maps keep the first k digits a bijection of the first k digits, so every
 * (t, m, s)-net property of the sequence survives, while the points become randomised.
 */
export function scrambledSobol(dims: number, seed: number): SobolGenerator {
  checkDims(dims);
  const rng = new Rng(seed, 0x50b01);
  const directions: Uint32Array[] = [];
  const shifts: number[] = [];
  for (let d = 0; d < dims; d += 1) {
    const matrix = lowerTriangular(rng);
    directions.push(directionNumbers(d).map((v) => applyMatrix(matrix, v)));
    shifts.push(rng.nextUint32());
  }
  return generator(directions, shifts);
}

/** Row i (digit i, i.e. bit 31−i) keeps itself and random earlier (more significant) digits. */
function lowerTriangular(rng: Rng): Uint32Array {
  const rows = new Uint32Array(BITS);
  for (let i = 0; i < BITS; i += 1) {
    const diagonal = 2 ** (BITS - 1 - i);
    const above = i === 0 ? 0 : (TWO_32 - 2 ** (BITS - i)) >>> 0; // the i most significant bits
    rows[i] = ((rng.nextUint32() & above) | diagonal) >>> 0;
  }
  return rows;
}

function applyMatrix(rows: Uint32Array, v: number): number {
  let out = 0;
  for (let i = 0; i < BITS; i += 1) if (parity((rows[i] as number) & v)) out |= 2 ** (BITS - 1 - i);
  return out >>> 0;
}

function parity(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}
