// Katib's trial success/failure test: a GJSON path evaluated on the job's JSON
// (pkg/controller.v1beta1/trial/util/job_util.go). A match is an object, or a non-empty array
// whose first element is used; its `reason`/`message` become the trial's. The failure
// condition is checked first.
//
// The GJSON subset implemented here (everything Katib's defaults and the usual custom
// conditions use):
//   a.b.c            object keys (`\.` escapes a dot in a key; a number indexes an array)
//   #(k=="v")        the first array element matching a query
//   #(k=="v")#       every matching element (an array)
//   p|q              q applied to the whole result of p (`.` after `#(..)#` maps q over each element)
//   @this            the current value (GJSON's modifier)
//   [p1,p2]          a multipath: the array of what each path gives (missing ones left out), so
//                    `status.[@this].#(phase=="Succeeded")#` queries an object as a one-element array
// Queries: `<key path> <op> <value>` with op one of == != < <= > >= % !% (% is a * ? glob) and
// value a JSON literal ("text", 1.5, true, false, null). Anything else is rejected by
// `compileCondition`, so a study with an unsupported condition fails validation, not at run time.

type Step =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'this' }
  | { readonly kind: 'multipath'; readonly paths: readonly CompiledCondition[] }
  | { readonly kind: 'query'; readonly all: boolean; readonly path: readonly string[]; readonly op: string; readonly value: unknown };

/** Steps joined by '.', and groups of them joined by '|'. */
export type CompiledCondition = readonly (readonly Step[])[];

export interface ConditionMatch {
  readonly reason: string;
  readonly message: string;
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '!%', '%'] as const;

export function compileCondition(expr: string): CompiledCondition {
  if (expr.trim() === '') throw new Error('an empty condition');
  return splitTopLevel(expr, '|').map((group) => splitTopLevel(group, '.').map((part) => compileStep(part, expr)));
}

function compileStep(part: string, expr: string): Step {
  if (part === '@this') return { kind: 'this' };
  if (part.startsWith('@')) throw new Error(`unsupported modifier "${part}" in ${JSON.stringify(expr)} (only @this is implemented)`);
  if (part.startsWith('{')) throw new Error(`unsupported object multipath "${part}" in ${JSON.stringify(expr)}`);
  if (part.startsWith('[')) {
    if (!part.endsWith(']') || part.length === 2) throw new Error(`unsupported multipath "${part}" in ${JSON.stringify(expr)}`);
    return { kind: 'multipath', paths: splitTopLevel(part.slice(1, -1), ',').map((p) => compileCondition(p)) };
  }
  if (part.startsWith('#(')) {
    const all = part.endsWith(')#');
    if (!all && !part.endsWith(')')) throw new Error(`unsupported query "${part}" in ${JSON.stringify(expr)}`);
    const inner = part.slice(2, all ? -2 : -1);
    for (const op of OPS) {
      const at = findOp(inner, op);
      if (at < 0) continue;
      const key = inner.slice(0, at).trim();
      const literal = inner.slice(at + op.length).trim();
      let value: unknown;
      try {
        value = JSON.parse(literal);
      } catch {
        throw new Error(`the value ${literal} in "${part}" is not a JSON literal`);
      }
      if (key === '' || /[#|()@]/.test(key)) throw new Error(`unsupported query key "${key}" in ${JSON.stringify(expr)}`);
      return { kind: 'query', all, path: key.split('.'), op, value };
    }
    throw new Error(`unsupported query "${part}" in ${JSON.stringify(expr)} (expected k==v, k!=v, k<v, …)`);
  }
  if (part === '' || /[#@*?!\[\]{}]/.test(part.replace(/\\./g, ''))) throw new Error(`unsupported path component "${part}" in ${JSON.stringify(expr)}`);
  return { kind: 'key', key: part.replace(/\\(.)/g, '$1') };
}

/** The index of `op` outside a quoted string, or -1; `<` does not match the start of `<=`. */
function findOp(text: string, op: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (!quoted && text.startsWith(op, i)) {
      // `<`/`>` inside `<=`/`>=`, `%` inside `!%`, `=` of `==` are other operators.
      const next = text[i + op.length];
      if ((op === '<' || op === '>') && next === '=') continue;
      if (op === '%' && text[i - 1] === '!') continue;
      return i;
    }
  }
  return -1;
}

function splitTopLevel(text: string, sep: '.' | '|' | ','): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '"' && depth > 0) quoted = !quoted;
    if (quoted) continue;
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (ch === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

export function evaluateCondition(compiled: CompiledCondition, doc: unknown): unknown {
  let value = doc;
  for (const group of compiled) {
    value = evalSteps(group, value);
    if (value === undefined) return undefined;
  }
  return value;
}

function evalSteps(steps: readonly Step[], value: unknown): unknown {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (value === undefined || value === null) return undefined;
    if (step.kind === 'this') continue;
    if (step.kind === 'multipath') {
      const current = value;
      value = step.paths.map((p) => evaluateCondition(p, current)).filter((v) => v !== undefined);
      continue;
    }
    if (step.kind === 'key') {
      if (Array.isArray(value)) value = /^\d+$/.test(step.key) ? value[Number(step.key)] : undefined;
      else value = typeof value === 'object' ? (value as Record<string, unknown>)[step.key] : undefined;
      continue;
    }
    if (!Array.isArray(value)) return undefined;
    const hits = value.filter((item) => queryMatches(step, item));
    if (!step.all) {
      value = hits[0];
      continue;
    }
    const rest = steps.slice(i + 1);
    if (rest.length === 0) return hits;
    return hits.map((h) => evalSteps(rest, h)).filter((v) => v !== undefined);
  }
  return value;
}

function queryMatches(step: Extract<Step, { kind: 'query' }>, item: unknown): boolean {
  let v: unknown = item;
  for (const k of step.path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  if (v === undefined) return false;
  const want = step.value;
  switch (step.op) {
    case '==':
      return v === want;
    case '!=':
      return v !== want;
    case '%':
    case '!%': {
      if (typeof v !== 'string' || typeof want !== 'string') return false;
      const glob = new RegExp(`^${want.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      return glob.test(v) === (step.op === '%');
    }
    default: {
      if (typeof v !== typeof want || (typeof v !== 'number' && typeof v !== 'string')) return false;
      const [a, b] = [v as number | string, want as number | string];
      return step.op === '<' ? a < b : step.op === '<=' ? a <= b : step.op === '>' ? a > b : a >= b;
    }
  }
}

/** Katib's match rule: an object, or a non-empty array's first element. */
export function matchOf(result: unknown): ConditionMatch | undefined {
  const hit = Array.isArray(result) ? result[0] : result;
  if (hit === null || typeof hit !== 'object' || (Array.isArray(result) && result.length === 0)) return undefined;
  const o = hit as Record<string, unknown>;
  return { reason: typeof o['reason'] === 'string' ? o['reason'] : '', message: typeof o['message'] === 'string' ? o['message'] : '' };
}

export type JobVerdict =
  | { readonly state: 'running' }
  | ({ readonly state: 'succeeded' | 'failed' } & ConditionMatch);

export interface JobConditions {
  readonly success: CompiledCondition;
  readonly failure: CompiledCondition;
}

/** Failure first, then success; otherwise the job is still running. */
export function judgeJob(job: unknown, conditions: JobConditions): JobVerdict {
  const failed = matchOf(evaluateCondition(conditions.failure, job));
  if (failed) return { state: 'failed', ...failed };
  const succeeded = matchOf(evaluateCondition(conditions.success, job));
  if (succeeded) return { state: 'succeeded', ...succeeded };
  return { state: 'running' };
}
