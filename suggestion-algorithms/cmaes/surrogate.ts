// A least-squares polynomial model of the loss, to pre-screen candidate points, in the spirit of
// lq-CMA-ES (Hansen 2019, "A global surrogate assisted CMA-ES"): linear, then diagonal
// quadratic, then full quadratic as the points become enough to over-determine each model.
import { Matrix, solve } from 'ml-matrix';

/** Points per model coefficient before a model is used (lq-CMA-ES asks for a margin over the degrees of freedom). */
const OVERDETERMINATION = 1.1;
/** Tiny ridge on the normal equations so that collinear points never make them singular. */
const RIDGE = 1e-9;

type Degree = 'linear' | 'diagonal' | 'full';

function features(x: Float64Array, degree: Degree): number[] {
  const f = [1, ...x];
  if (degree !== 'linear') for (const v of x) f.push(v * v);
  if (degree === 'full') for (let i = 0; i < x.length; i += 1) for (let j = 0; j < i; j += 1) f.push((x[i] as number) * (x[j] as number));
  return f;
}

function degreeFor(points: number, n: number): Degree | undefined {
  const enough = (df: number) => points >= OVERDETERMINATION * df + 1;
  if (enough(((n + 1) * (n + 2)) / 2)) return 'full';
  if (enough(2 * n + 1)) return 'diagonal';
  if (enough(n + 1)) return 'linear';
  return undefined;
}

/** The model fitted to (x, loss) pairs, or undefined when there are too few points for even a linear one. */
export function fitSurrogate(xs: readonly Float64Array[], losses: readonly number[]): ((x: Float64Array) => number) | undefined {
  const n = xs[0]?.length ?? 0;
  const degree = degreeFor(xs.length, n);
  if (degree === undefined) return undefined;
  const X = new Matrix(xs.map((x) => features(x, degree)));
  const Xt = X.transpose();
  const normal = Xt.mmul(X);
  for (let i = 0; i < normal.rows; i += 1) normal.set(i, i, normal.get(i, i) + RIDGE);
  const beta = solve(normal, Xt.mmul(Matrix.columnVector([...losses]))).to1DArray();
  if (!beta.every(Number.isFinite)) return undefined;
  return (x) => features(x, degree).reduce((sum, v, i) => sum + v * (beta[i] as number), 0);
}
