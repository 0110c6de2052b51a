// A small seeded PRNG (xoshiro128**, seeded through splitmix32) so that suggestions are
// reproducible from (seed, stream) alone. Never Math.random: a restarted service must be
// able to recompute exactly what it proposed before.

/** splitmix32: spreads a 32-bit input over the whole state so nearby seeds give unrelated streams. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const TWO_32 = 2 ** 32;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * `seed` and `stream` may be any finite numbers (non-integers and values ≥ 2^32 are folded
   * in); different streams of one seed are independent, e.g. one per "trials so far".
   */
  constructor(seed: number, stream = 0) {
    let h = 0x2545f491;
    for (const part of [...foldToWords(seed), ...foldToWords(stream)]) h = splitmix32(h ^ part);
    this.s0 = h = splitmix32(h);
    this.s1 = h = splitmix32(h);
    this.s2 = h = splitmix32(h);
    this.s3 = h = splitmix32(h);
    // xoshiro must not start from the all-zero state.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next raw 32-bit unsigned output. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of resolution. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n); n must be a positive integer. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer (got ${n})`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal N(0, 1) by Box–Muller (one draw per call; simplicity over speed). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]: log(0) must not happen
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Splits a number into 32-bit words so that large or fractional seeds still matter. */
function foldToWords(x: number): number[] {
  if (!Number.isFinite(x)) throw new RangeError(`Rng: seed must be finite (got ${x})`);
  if (Number.isInteger(x) && x >= 0 && x < TWO_32) return [x >>> 0];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return [view.getUint32(0), view.getUint32(4), 0xffffffff];
}
