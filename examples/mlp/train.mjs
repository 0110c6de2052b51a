#!/usr/bin/env node
// Sibyl example trial: a small multi-layer perceptron trained on a synthetic
// "three interleaved spirals" dataset. Plain ESM JavaScript, no dependencies,
// nothing downloaded at run time.
//
// Output: one line per epoch, exactly
//   epoch=N loss=<float> accuracy=<float>
// where loss is the mean training cross-entropy over the epoch and accuracy
// is the validation accuracy (fraction in [0,1]) on the held-out 20% split.
//
// Arguments (both `--flag value` and `--flag=value` are accepted):
//   --learning-rate  float > 0          (default 0.05) initial SGD step size
//   --hidden-layers  int >= 1           (default 2)
//   --units          int >= 1           (default 8)   units per hidden layer
//   --epochs         int >= 1           (default 400) epochs this run trains
//   --seed           int                (default 1)   weight init + shuffling
//   --checkpoint     folder             (default $SIBYL_CHECKPOINT_DIR, else none)
//   --optimizer      sgd | momentum     (default sgd) plain mini-batch SGD, or SGD with
//                                       heavy-ball momentum (v = m v + g; w -= lr v)
//   --momentum       float in [0, 1)    (default 0.9) the m above; only with --optimizer
//                                       momentum (given with sgd it is refused, as a
//                                       setting that would be silently ignored). The
//                                       velocity is not checkpointed: a resumed run
//                                       starts it at zero.
//   --epoch-ms       int >= 0           (default 0)   wait this long after each epoch, as a
//                                       bigger model's training would take: the early-stopping
//                                       examples use it so a stop lands while the trial runs
// Upper bounds: learning-rate <= 1000, hidden-layers <= 20, units <= 1024,
// epochs <= 100000. Bad arguments (unknown flag, missing value, non-numeric,
// non-integer where an integer is needed, out of range) -> one-line message on
// stderr, exit code 2.
//
// Divergence: if the training loss or any weight becomes non-finite during an
// epoch, training stops. The program prints "diverged at epoch N" on stderr,
// then prints one last metrics line for that epoch with finite values only
// (loss is reported as the last finite epoch loss, or log(3) = chance-level
// cross-entropy if no epoch finished; accuracy is measured with the last
// finite weights), and exits with code 0. No line ever contains NaN/Infinity.
//
// Dataset generator (fixed, independent of --seed; PRNG seed 20261128):
//   N_PER_CLASS = 500 points for each of 3 classes (1500 total).
//   For class c and point i (t = i / (N_PER_CLASS - 1) in [0,1]):
//     r     = 0.05 + 0.95 * t                      (radius grows outward)
//     theta = c * 2*pi/3 + TURNS * 2*pi * t      (arms rotated by 120 deg)
//     x     = r * cos(theta) + NOISE * N(0, 1)
//     y     = r * sin(theta) + NOISE * N(0, 1)
//   with TURNS = 1.25 (each arm winds 1.25 times around the origin) and
//   NOISE = 0.04 (Gaussian, via Box-Muller on a mulberry32 stream).
//   Two extra input dimensions of pure noise, 0.5 * N(0, 1), are appended, so each
//   example has 4 features; the network must learn to ignore them.
//   The 1500 points are shuffled with the same fixed PRNG and split 80/20
//   into 1200 training and 300 validation examples.
//
// Model: fully connected; ReLU hidden layers (--hidden-layers of --units
// each); softmax output over 3 classes; mean cross-entropy loss; plain
// mini-batch SGD (batch size 32, no momentum, no weight decay). The step size
// follows a cosine schedule: epoch e (1-based) of E uses
//   lr_e = --learning-rate * 0.5 * (1 + cos(pi * (e - 1) / E)),
// i.e. it starts at --learning-rate and decays towards 0, which makes the
// final-epoch accuracy stable rather than oscillating. He-normal weight init
// (std = sqrt(2 / fan_in)) and zero biases, drawn from mulberry32(--seed).
// The training set is reshuffled every epoch with the same seeded PRNG.
// Everything is deterministic for a given set of arguments (and checkpoint).
// All arithmetic uses Float64Array and plain loops.
//
// Checkpoints (for population-based training, see pbt.yaml): with --checkpoint
// DIR (or SIBYL_CHECKPOINT_DIR set, as Sibyl's local runtime does for pbt
// studies), DIR/checkpoint.json holds the epoch reached, the weights, the
// PRNG state and the shuffle order. If it exists at start, training resumes
// from it: the architecture must match (else exit 2), the first line printed
// is epoch=<reached + 1>, and the run trains --epochs more epochs, its
// cosine schedule starting afresh from --learning-rate (warm restarts). After
// every finished epoch the file is replaced atomically (written to a temporary
// file in DIR, then renamed), so a killed run leaves the last whole epoch.
// A diverged epoch is never saved. Without a checkpoint the output is exactly
// as before.

// ---------------------------------------------------------------- arguments
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STRING_OPTIONS = ['checkpoint', 'optimizer'];
const OPTIMIZERS = ['sgd', 'momentum'];
const DEFAULTS = {
  'learning-rate': 0.05,
  'hidden-layers': 2,
  units: 8,
  epochs: 400,
  seed: 1,
  'epoch-ms': 0,
  momentum: 0.9,
};

function fail(msg) {
  process.stderr.write(`train.mjs: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const raw = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) fail(`unexpected argument '${a}'`);
    let key;
    let val;
    const eq = a.indexOf('=');
    if (eq >= 0) {
      key = a.slice(2, eq);
      val = a.slice(eq + 1);
    } else {
      key = a.slice(2);
      if (i + 1 >= argv.length) fail(`missing value for --${key}`);
      val = argv[++i];
    }
    if (!(key in DEFAULTS) && !STRING_OPTIONS.includes(key)) fail(`unknown option --${key}`);
    raw[key] = val;
  }
  const num = (key, { integer, min, exclusiveMin }) => {
    if (!(key in raw)) return DEFAULTS[key];
    const s = String(raw[key]).trim();
    const re = integer ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
    if (!re.test(s)) fail(`--${key} must be ${integer ? 'an integer' : 'a number'}, got '${raw[key]}'`);
    const v = Number(s);
    if (!Number.isFinite(v) || (integer && !Number.isSafeInteger(v))) fail(`--${key} out of range: '${raw[key]}'`);
    if (min !== undefined && v < min) fail(`--${key} must be >= ${min}, got ${v}`);
    if (exclusiveMin !== undefined && v <= exclusiveMin) fail(`--${key} must be > ${exclusiveMin}, got ${v}`);
    return v;
  };
  const opts = {
    learningRate: num('learning-rate', { integer: false, exclusiveMin: 0 }),
    hiddenLayers: num('hidden-layers', { integer: true, min: 1 }),
    units: num('units', { integer: true, min: 1 }),
    epochs: num('epochs', { integer: true, min: 1 }),
    seed: num('seed', { integer: true }),
    epochMs: num('epoch-ms', { integer: true, min: 0 }),
    optimizer: 'optimizer' in raw ? String(raw.optimizer) : 'sgd',
    momentum: num('momentum', { integer: false, min: 0 }),
    checkpoint: 'checkpoint' in raw ? String(raw.checkpoint) : process.env.SIBYL_CHECKPOINT_DIR || undefined,
  };
  if (opts.checkpoint === '') fail('--checkpoint must name a folder');
  if (!OPTIMIZERS.includes(opts.optimizer)) fail(`--optimizer must be one of ${OPTIMIZERS.join(', ')}, got '${opts.optimizer}'`);
  if (opts.momentum >= 1) fail(`--momentum must be < 1, got ${opts.momentum}`);
  if ('momentum' in raw && opts.optimizer !== 'momentum') fail(`--momentum is only used with --optimizer momentum (got --optimizer ${opts.optimizer})`);
  if (opts.optimizer === 'sgd') opts.momentum = 0;
  if (opts.learningRate > 1000) fail(`--learning-rate must be <= 1000, got ${opts.learningRate}`);
  if (opts.hiddenLayers > 20) fail(`--hidden-layers must be <= 20, got ${opts.hiddenLayers}`);
  if (opts.units > 1024) fail(`--units must be <= 1024, got ${opts.units}`);
  if (opts.epochs > 100000) fail(`--epochs must be <= 100000, got ${opts.epochs}`);
  return opts;
}

// ---------------------------------------------------------------- PRNG
// `next.state()` is the 32-bit state; mulberry32(state) continues the stream.
function mulberry32(seed) {
  let a = seed >>> 0;
  function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  next.state = () => a;
  return next;
}

function gaussian(rand) {
  // Box-Muller; 1 - u keeps the log argument in (0, 1].
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function shuffleInPlace(idx, rand) {
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}

// ---------------------------------------------------------------- dataset
const CLASSES = 3;
const N_PER_CLASS = 500;
const TURNS = 1.25;
const NOISE = 0.04;
const EXTRA_NOISE_DIMS = 2;
const EXTRA_NOISE_STD = 0.5;
const FEATURES = 2 + EXTRA_NOISE_DIMS;
const DATA_SEED = 20261128;

function makeSpirals() {
  const rand = mulberry32(DATA_SEED);
  const n = CLASSES * N_PER_CLASS;
  const X = new Float64Array(n * FEATURES);
  const Y = new Int32Array(n);
  let k = 0;
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < N_PER_CLASS; i++, k++) {
      const t = i / (N_PER_CLASS - 1);
      const r = 0.05 + 0.95 * t;
      const theta = (c * 2 * Math.PI) / CLASSES + TURNS * 2 * Math.PI * t;
      X[k * FEATURES] = r * Math.cos(theta) + NOISE * gaussian(rand);
      X[k * FEATURES + 1] = r * Math.sin(theta) + NOISE * gaussian(rand);
      for (let d = 0; d < EXTRA_NOISE_DIMS; d++) X[k * FEATURES + 2 + d] = EXTRA_NOISE_STD * gaussian(rand);
      Y[k] = c;
    }
  }
  const order = Int32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, rand);
  const nTrain = Math.round(n * 0.8);
  const split = (from, to) => {
    const m = to - from;
    const xs = new Float64Array(m * FEATURES);
    const ys = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const src = order[from + i];
      for (let d = 0; d < FEATURES; d++) xs[i * FEATURES + d] = X[src * FEATURES + d];
      ys[i] = Y[src];
    }
    return { X: xs, Y: ys, n: m };
  };
  return { train: split(0, nTrain), val: split(nTrain, n) };
}

// ---------------------------------------------------------------- model
function buildModel(sizes, rand) {
  const W = [];
  const B = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l];
    const fanOut = sizes[l + 1];
    const std = Math.sqrt(2 / fanIn); // He-normal
    const w = new Float64Array(fanIn * fanOut); // row-major [out][in]
    for (let i = 0; i < w.length; i++) w[i] = std * gaussian(rand);
    W.push(w);
    B.push(new Float64Array(fanOut));
  }
  return { sizes, W, B };
}

function cloneModel(m) {
  return { sizes: m.sizes, W: m.W.map((w) => w.slice()), B: m.B.map((b) => b.slice()) };
}

function modelFinite(m) {
  for (const arrs of [m.W, m.B]) {
    for (const a of arrs) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  }
  return true;
}

// Forward pass for one example. acts[0] must already hold the input.
// Hidden layers use tanh; the last layer holds softmax probabilities.
function forward(model, acts) {
  const { sizes, W, B } = model;
  const L = sizes.length - 1;
  for (let l = 0; l < L; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const a = acts[l];
    const z = acts[l + 1];
    const w = W[l];
    const b = B[l];
    for (let o = 0; o < nOut; o++) {
      let s = b[o];
      const row = o * nIn;
      for (let i = 0; i < nIn; i++) s += w[row + i] * a[i];
      z[o] = s;
    }
    if (l < L - 1) {
      for (let o = 0; o < nOut; o++) z[o] = z[o] > 0 ? z[o] : 0; // ReLU
    } else {
      let mx = -Infinity;
      for (let o = 0; o < nOut; o++) if (z[o] > mx) mx = z[o];
      let sum = 0;
      for (let o = 0; o < nOut; o++) {
        z[o] = Math.exp(z[o] - mx);
        sum += z[o];
      }
      for (let o = 0; o < nOut; o++) z[o] /= sum;
    }
  }
  return acts[L];
}

function makeActs(sizes) {
  return sizes.map((s) => new Float64Array(s));
}

function accuracy(model, data) {
  const acts = makeActs(model.sizes);
  let correct = 0;
  for (let n = 0; n < data.n; n++) {
    for (let d = 0; d < FEATURES; d++) acts[0][d] = data.X[n * FEATURES + d];
    const p = forward(model, acts);
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (p[c] > p[best]) best = c;
    if (best === data.Y[n]) correct++;
  }
  return correct / data.n;
}

// One epoch of mini-batch SGD. Returns the mean training cross-entropy
// (computed from the forward passes made during the epoch).
// `velocity` (one buffer per weight/bias array, kept across epochs) carries the heavy-ball
// momentum term; with momentum 0 the update is plain SGD.
function trainEpoch(model, data, lr, batchSize, rand, order, momentum, velocity) {
  const { sizes, W, B } = model;
  const L = sizes.length - 1;
  const acts = makeActs(sizes);
  const deltas = sizes.map((s) => new Float64Array(s));
  const gW = W.map((w) => new Float64Array(w.length));
  const gB = B.map((b) => new Float64Array(b.length));
  shuffleInPlace(order, rand);
  let lossSum = 0;
  for (let start = 0; start < data.n; start += batchSize) {
    const end = Math.min(start + batchSize, data.n);
    for (let l = 0; l < L; l++) {
      gW[l].fill(0);
      gB[l].fill(0);
    }
    for (let k = start; k < end; k++) {
      const n = order[k];
      for (let d = 0; d < FEATURES; d++) acts[0][d] = data.X[n * FEATURES + d];
      const p = forward(model, acts);
      const y = data.Y[n];
      lossSum += -Math.log(Math.max(p[y], 1e-300));
      // softmax + cross-entropy gradient wrt logits
      const dOut = deltas[L];
      for (let c = 0; c < CLASSES; c++) dOut[c] = p[c] - (c === y ? 1 : 0);
      for (let l = L - 1; l >= 0; l--) {
        const nIn = sizes[l];
        const nOut = sizes[l + 1];
        const a = acts[l];
        const dz = deltas[l + 1];
        const w = W[l];
        const gw = gW[l];
        const gb = gB[l];
        for (let o = 0; o < nOut; o++) {
          const g = dz[o];
          gb[o] += g;
          const row = o * nIn;
          for (let i = 0; i < nIn; i++) gw[row + i] += g * a[i];
        }
        if (l > 0) {
          const da = deltas[l];
          for (let i = 0; i < nIn; i++) {
            let s = 0;
            for (let o = 0; o < nOut; o++) s += w[o * nIn + i] * dz[o];
            da[i] = a[i] > 0 ? s : 0; // ReLU'
          }
        }
      }
    }
    const scale = 1 / (end - start);
    for (let l = 0; l < L; l++) {
      const w = W[l];
      const gw = gW[l];
      const vw = velocity.W[l];
      for (let i = 0; i < w.length; i++) {
        vw[i] = momentum * vw[i] + scale * gw[i];
        w[i] -= lr * vw[i];
      }
      const b = B[l];
      const gb = gB[l];
      const vb = velocity.B[l];
      for (let i = 0; i < b.length; i++) {
        vb[i] = momentum * vb[i] + scale * gb[i];
        b[i] -= lr * vb[i];
      }
    }
  }
  return lossSum / data.n;
}

// ---------------------------------------------------------------- checkpoints
const CHECKPOINT_FILE = 'checkpoint.json';

function loadCheckpoint(dir, sizes, nTrain) {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) return undefined;
  let c;
  try {
    c = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    fail(`cannot read checkpoint ${file}: ${err.message}`);
  }
  const ok = c && c.version === 1 && Number.isSafeInteger(c.epoch) && c.epoch >= 0 && Number.isSafeInteger(c.rng)
    && Array.isArray(c.sizes) && Array.isArray(c.W) && Array.isArray(c.B) && Array.isArray(c.order) && c.order.length === nTrain
    && Number.isFinite(c.lastFiniteLoss);
  if (!ok) fail(`checkpoint ${file} is not one this program wrote`);
  if (JSON.stringify(c.sizes) !== JSON.stringify(sizes)) {
    fail(`checkpoint ${file} holds layer sizes ${JSON.stringify(c.sizes)}, not ${JSON.stringify(sizes)} (--hidden-layers/--units)`);
  }
  const model = { sizes, W: c.W.map((w) => Float64Array.from(w)), B: c.B.map((b) => Float64Array.from(b)) };
  if (model.W.length !== sizes.length - 1 || model.W.some((w, l) => w.length !== sizes[l] * sizes[l + 1]) || !modelFinite(model)) {
    fail(`checkpoint ${file} has weights of the wrong shape`);
  }
  return { model, epoch: c.epoch, rng: c.rng, order: Int32Array.from(c.order), lastFiniteLoss: c.lastFiniteLoss };
}

function saveCheckpoint(dir, state) {
  const c = {
    version: 1,
    epoch: state.epoch,
    sizes: state.model.sizes,
    W: state.model.W.map((w) => Array.from(w)),
    B: state.model.B.map((b) => Array.from(b)),
    rng: state.rand.state(),
    order: Array.from(state.order),
    lastFiniteLoss: state.lastFiniteLoss,
  };
  const tmp = join(dir, `.${CHECKPOINT_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(c));
  renameSync(tmp, join(dir, CHECKPOINT_FILE));
}

// ---------------------------------------------------------------- main
function fmt(x) {
  return Number(x.toFixed(6)).toString();
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { train, val } = makeSpirals();
  const sizes = [FEATURES];
  for (let l = 0; l < opts.hiddenLayers; l++) sizes.push(opts.units);
  sizes.push(CLASSES);
  const resumed = opts.checkpoint === undefined ? undefined : loadCheckpoint(opts.checkpoint, sizes, train.n);
  if (opts.checkpoint !== undefined) mkdirSync(opts.checkpoint, { recursive: true });
  if (resumed) process.stderr.write(`train.mjs: resuming from ${join(opts.checkpoint, CHECKPOINT_FILE)} after epoch ${resumed.epoch}\n`);
  const rand = mulberry32(resumed ? resumed.rng : opts.seed);
  let model = resumed ? resumed.model : buildModel(sizes, rand);
  const order = resumed ? resumed.order : Int32Array.from({ length: train.n }, (_, i) => i);
  const BATCH = 32;
  let lastFiniteLoss = resumed ? resumed.lastFiniteLoss : Math.log(CLASSES);
  const start = resumed ? resumed.epoch : 0;
  const velocity = { W: model.W.map((w) => new Float64Array(w.length)), B: model.B.map((b) => new Float64Array(b.length)) };
  for (let epoch = start + 1; epoch <= start + opts.epochs; epoch++) {
    const backup = cloneModel(model);
    // cosine decay from --learning-rate (this run's first epoch) towards 0 (after its last)
    const lr = 0.5 * opts.learningRate * (1 + Math.cos((Math.PI * (epoch - start - 1)) / opts.epochs));
    const loss = trainEpoch(model, train, lr, BATCH, rand, order, opts.momentum, velocity);
    if (!Number.isFinite(loss) || !modelFinite(model)) {
      process.stderr.write(`diverged at epoch ${epoch}\n`);
      model = backup;
      const acc = accuracy(model, val);
      console.log(`epoch=${epoch} loss=${fmt(lastFiniteLoss)} accuracy=${fmt(acc)}`);
      return;
    }
    lastFiniteLoss = loss;
    if (opts.checkpoint !== undefined) saveCheckpoint(opts.checkpoint, { epoch, model, rand, order, lastFiniteLoss });
    const acc = accuracy(model, val);
    console.log(`epoch=${epoch} loss=${fmt(loss)} accuracy=${fmt(acc)}`);
    if (opts.epochMs > 0) await new Promise((r) => setTimeout(r, opts.epochMs));
  }
}

await main();
