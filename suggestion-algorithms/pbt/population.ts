// pbt's state, rebuilt from the trials on every call (restart-safe, nothing kept elsewhere).
// Generations are synchronous: generation g + 1 is planned once every member of generation g
// has completed. A generation's trials are matched to its plan by (parent, assignment); a trial
// that ended without a value to rank it by (failed, killed, metrics unavailable) is owed a
// retry with the same assignment and labels, as Katib re-queues failed and killed trials, and
// the next trial of the generation with that (parent, assignment) is that retry.
import type { Assignment, SearchSpace, TrialView } from '../model.js';
import { assignmentKey } from '../space.js';
import { firstGeneration, nextGeneration, type Entry, type Member } from './breed.js';
import { generationOf, parentOf } from './labels.js';
import type { PbtSettings } from './settings.js';

export interface Population {
  /** The generation being filled or run: the first one not complete. */
  readonly generation: number;
  /** Its trials that ended without a value, not retried yet, in trial order. */
  readonly owed: Entry[];
  /** Its planned members that no trial is for yet, in plan order. */
  readonly unfilled: Entry[];
  /** Its trials beyond the plan (see extraMember). */
  readonly extras: number;
  /** The completed members of the generation before (none in generation 0). */
  readonly previous: Member[];
}

const isActive = (t: TrialView) => t.state === 'CREATED' || t.state === 'RUNNING';
const hasValue = (t: TrialView): t is TrialView & { objectiveValue: number } =>
  (t.state === 'SUCCEEDED' || t.state === 'EARLY_STOPPED') && t.objectiveValue !== undefined && Number.isFinite(t.objectiveValue);

interface Indexed {
  readonly trial: TrialView;
  readonly index: number;
}

interface Matched {
  readonly owed: Entry[];
  readonly unfilled: Entry[];
  readonly extras: number;
  readonly members: Member[];
  readonly complete: boolean;
}

/** Queues of values by key: a plain multiset that remembers order. */
class Queues<T> {
  private readonly map = new Map<string, T[]>();
  push(key: string, value: T): void {
    const q = this.map.get(key);
    if (q) q.push(value);
    else this.map.set(key, [value]);
  }
  shift(key: string): T | undefined {
    return this.map.get(key)?.shift();
  }
}

function matchGeneration(space: SearchSpace, plan: readonly Entry[], trials: readonly Indexed[]): Matched {
  const key = (parent: string | undefined, a: Assignment) => JSON.stringify([parent ?? null, assignmentKey(space, a)]);
  const planned = new Queues<number>();
  plan.forEach((e, i) => planned.push(key(e.parent, e.assignment), i));
  const filled = plan.map(() => false);
  const lost: { entry: Entry; retried: boolean }[] = [];
  const open = new Queues<number>();
  const members: Member[] = [];
  let extras = 0;
  let active = 0;
  for (const { trial, index } of trials) {
    const parent = parentOf(trial);
    const k = key(parent, trial.assignment);
    const retried = open.shift(k);
    if (retried !== undefined) (lost[retried] as { retried: boolean }).retried = true;
    else {
      const slot = planned.shift(k);
      if (slot === undefined) extras += 1;
      else filled[slot] = true;
    }
    if (isActive(trial)) active += 1;
    else if (hasValue(trial)) members.push({ trial, index });
    else {
      open.push(k, lost.length);
      lost.push({ entry: { assignment: trial.assignment, ...(parent === undefined ? {} : { parent }) }, retried: false });
    }
  }
  const owed = lost.filter((l) => !l.retried).map((l) => l.entry);
  const unfilled = plan.filter((_, i) => !filled[i]);
  return { owed, unfilled, extras, members, complete: owed.length === 0 && unfilled.length === 0 && active === 0 };
}

/** Walks the generations from the first: each complete one plans the next. */
export function readPopulation(space: SearchSpace, trials: readonly TrialView[], s: PbtSettings, seed: number): Population {
  const byGeneration = new Map<number, Indexed[]>();
  trials.forEach((trial, index) => {
    const g = generationOf(trial);
    if (g === undefined) return; // not pbt's (another algorithm's, or unlabelled)
    const list = byGeneration.get(g);
    if (list) list.push({ trial, index });
    else byGeneration.set(g, [{ trial, index }]);
  });
  let plan = firstGeneration(space, s, seed);
  let previous: Member[] = [];
  for (let generation = 0; ; generation++) {
    const m = matchGeneration(space, plan, byGeneration.get(generation) ?? []);
    if (!m.complete) return { generation, owed: m.owed, unfilled: m.unfilled, extras: m.extras, previous };
    previous = m.members;
    plan = nextGeneration(space, generation + 1, m.members, s, seed);
  }
}
