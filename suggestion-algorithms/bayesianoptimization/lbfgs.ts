// A small projected L-BFGS for box-constrained smooth minimisation (the GP's log-
// hyperparameters). Variables sitting on a bound with the gradient pushing outward are frozen
// for the step; the rest follow the two-loop quasi-Newton direction with a projected
// backtracking (Armijo) line search. Enough for ~10 variables; not a full L-BFGS-B.

export interface Objective {
  (x: Float64Array): { value: number; gradient: Float64Array };
}

export interface MinimizeOptions {
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly maxIterations: number;
  readonly memory?: number;
}

export interface MinimizeResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly evaluations: number;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

export function minimizeBoxed(f: Objective, start: Float64Array, o: MinimizeOptions): MinimizeResult {
  const n = start.length;
  const clip = (v: number, i: number) => Math.min(o.upper[i] as number, Math.max(o.lower[i] as number, v));
  let x: Float64Array = start.map(clip);
  let { value, gradient }: { value: number; gradient: Float64Array } = f(x);
  let evaluations = 1;
  const memory = o.memory ?? 6;
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];

  for (let iter = 0; iter < o.maxIterations && Number.isFinite(value); iter++) {
    const free = x.map((xi, i) => {
      const g = gradient[i] as number;
      return (xi <= (o.lower[i] as number) && g > 0) || (xi >= (o.upper[i] as number) && g < 0) ? 0 : 1;
    });
    const g = gradient.map((gi, i) => gi * (free[i] as number));
    if (Math.sqrt(dot(g, g)) < 1e-6) break;

    // Two-loop recursion on the free coordinates.
    const q = Float64Array.from(g);
    const alphas: number[] = [];
    for (let k = ss.length - 1; k >= 0; k--) {
      const s = ss[k] as Float64Array;
      const y = ys[k] as Float64Array;
      const a = dot(s, q) / dot(y, s);
      alphas[k] = a;
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) - a * (y[i] as number);
    }
    const last = ss.length - 1;
    const gamma = last >= 0 ? dot(ss[last] as Float64Array, ys[last] as Float64Array) / dot(ys[last] as Float64Array, ys[last] as Float64Array) : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let i = 0; i < n; i++) q[i] = (q[i] as number) * gamma;
    for (let k = 0; k < ss.length; k++) {
      const s = ss[k] as Float64Array;
      const y = ys[k] as Float64Array;
      const b = dot(y, q) / dot(y, s);
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) + ((alphas[k] as number) - b) * (s[i] as number);
    }
    let direction = q.map((v, i) => -v * (free[i] as number));
    if (dot(direction, g) >= 0) {
      // Not a descent direction (curvature pairs went stale at the bounds): restart as steepest descent.
      direction = g.map((v) => -v / Math.max(1, Math.sqrt(dot(g, g))));
      ss.length = 0;
      ys.length = 0;
    }

    let step = 1;
    let accepted: { x: Float64Array; value: number; gradient: Float64Array } | undefined;
    for (let tries = 0; tries < 25; tries++) {
      const candidate = x.map((xi, i) => clip(xi + step * (direction[i] as number), i));
      const moved = candidate.map((c, i) => c - (x[i] as number));
      const r = f(candidate);
      evaluations++;
      if (Number.isFinite(r.value) && r.value <= value + 1e-4 * dot(gradient, moved)) {
        accepted = { x: candidate, ...r };
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const s = accepted.x.map((v, i) => v - (x[i] as number));
    const y = accepted.gradient.map((v, i) => v - (gradient[i] as number));
    if (dot(s, y) > 1e-12) {
      ss.push(s);
      ys.push(y);
      if (ss.length > memory) {
        ss.shift();
        ys.shift();
      }
    }
    const improvement = value - accepted.value;
    ({ x, value, gradient } = accepted);
    if (improvement < 1e-9 * (1 + Math.abs(value))) break;
  }
  return { x, value, evaluations };
}
