// Where a hyperband run stands, rebuilt from the trials alone on every call (Katib instead
// carries current_s/current_i/evaluating_trials between calls; a lost or stale state would
// then misplace every later trial).
//
// Every rung is a list of slots whose assignments are known in advance: rung 0 of bracket s
// holds configs drawn from Rng(seed, configStream(s, j)), a promoted rung holds the best
// configs of the rung before it with the larger resource. Trials are walked in creation order
// and each takes the first free slot of the current rung with the same assignment; a trial
// that repeats the assignment of a slot whose trial ended without a value (an ask/tell trial
// re-offered after its client went silent) takes that slot over. A rung is complete when every
// slot is filled and none of its trials is active; the walk then moves to the next rung.
// Trials that fit no slot (another algorithm's, an edited space) are ignored.
import type { Assignment, Direction, RangeParameter, SearchSpace, TrialView } from '../model.js';
import { Rng } from '../rng.js';
import { assignmentKey, roundSignificant, sampleAssignment } from '../space.js';
import { endedWithoutValue, isActive, promote } from './promotion.js';
import { floorTolerant, type Rung } from './schedule.js';

export interface ReplayContext {
  readonly space: SearchSpace;
  readonly seed: number;
  readonly resource: RangeParameter;
  /** Every rung in Katib's order (hyperbandSchedule). */
  readonly schedule: readonly Rung[];
}

/** s_max < 1024 for any finite r_l and eta ≥ 2, so (bracket, slot) pairs never share a stream. */
const MAX_BRACKETS = 1024;
export const configStream = (bracket: number, slot: number): number => slot * MAX_BRACKETS + bracket;
/** Draws per first-rung slot before a repeated config is accepted (the space has too few). */
const REDRAWS = 32;

/**
 * What a trial is given as its resource: Katib's int() for an int parameter, the number itself
 * for a double (Katib truncates there too, so a fractional budget such as a data fraction
 * would become 0). Not clipped to the parameter's [min, max]: Katib ignores the resource
 * parameter's feasible space (its own example declares num-epochs in [1, 1] with r_l 2).
 */
export function resourceValue(p: RangeParameter, resource: number): number {
  return p.parameterType === 'int' ? floorTolerant(resource) : roundSignificant(resource);
}

interface Slot {
  readonly assignment: Assignment;
  member?: TrialView;
}

/** One rung's slots and the trials that fill them. */
export class RungSlots {
  private readonly slots: Slot[];
  private readonly byKey = new Map<string, number[]>();
  private filled = 0;

  /**
   * `size` slots in all; `assignments` are the first of them (rung 0 of a large bracket is
   * only materialised as far as trials or proposals can reach).
   */
  constructor(
    readonly rung: Rung,
    readonly size: number,
    assignments: readonly Assignment[],
    space: SearchSpace,
  ) {
    this.slots = assignments.map((assignment) => ({ assignment }));
    this.slots.forEach((s, j) => {
      const key = assignmentKey(space, s.assignment);
      this.byKey.set(key, [...(this.byKey.get(key) ?? []), j]);
    });
  }

  /** Seats the trial in a slot with its assignment; false when it belongs to none of them. */
  place(trial: TrialView, key: string): boolean {
    const candidates = this.byKey.get(key) ?? [];
    const free = candidates.find((j) => this.slots[j]!.member === undefined);
    if (free !== undefined) {
      this.slots[free]!.member = trial;
      this.filled += 1;
      return true;
    }
    const retried = candidates.find((j) => endedWithoutValue(this.slots[j]!.member!));
    if (retried === undefined) return false;
    this.slots[retried]!.member = trial;
    return true;
  }

  get complete(): boolean {
    return this.filled === this.size && this.slots.every((s) => !isActive(s.member!));
  }

  /** Assignments of the materialised slots that no trial holds yet, in slot order. */
  unfilled(): Assignment[] {
    return this.slots.filter((s) => s.member === undefined).map((s) => s.assignment);
  }

  /** The next rung's configs: the best `k` of this (complete) rung, with `resource` as their budget. */
  promoted(k: number, direction: Direction, resource: RangeParameter, value: number): Assignment[] {
    const members = this.slots.map((s) => s.member!);
    return promote(members, k, direction).map((j) => ({ ...this.slots[j]!.assignment, [resource.name]: value }));
  }
}

export interface Progress {
  /** Index into the schedule of the rung in progress (the last rung when finished). */
  readonly index: number;
  readonly current: RungSlots;
  /** Every rung of every bracket is complete: nothing is left to propose or wait for. */
  readonly finished: boolean;
}

/** Replays `trials` (creation order) through the schedule; `extra` more slots are materialised for proposals. */
export function replay(ctx: ReplayContext, trials: readonly TrialView[], extra: number): Progress {
  const last = ctx.schedule.length - 1;
  let index = 0;
  let current = open(ctx, 0, undefined, trials.length + extra);
  trials.forEach((trial, position) => {
    const key = assignmentKey(ctx.space, trial.assignment);
    while (!current.place(trial, key)) {
      if (!current.complete || index === last) return; // fits nowhere: not ours
      index += 1;
      current = open(ctx, index, current, trials.length - position + extra);
    }
  });
  while (current.complete && index < last) {
    index += 1;
    current = open(ctx, index, current, extra);
  }
  return { index, current, finished: current.complete && index === last };
}

/** The slots of rung `index`; `reach` bounds how many of a first rung's configs are drawn. */
function open(ctx: ReplayContext, index: number, previous: RungSlots | undefined, reach: number): RungSlots {
  const rung = ctx.schedule[index]!;
  const value = resourceValue(ctx.resource, rung.resource);
  if (rung.rung === 0) {
    const drawn = Math.min(rung.size, Math.max(0, reach));
    const seen = new Set<string>();
    const configs = Array.from({ length: drawn }, (_, j) => {
      const rng = new Rng(ctx.seed, configStream(rung.bracket, j));
      const draw = (): Assignment => ({ ...sampleAssignment(ctx.space, rng), [ctx.resource.name]: value });
      // In a finite space a config is drawn again rather than run twice in one rung, unless
      // the space is too small for the rung.
      let config = draw();
      for (let attempt = 1; attempt < REDRAWS && seen.has(assignmentKey(ctx.space, config)); attempt += 1) config = draw();
      seen.add(assignmentKey(ctx.space, config));
      return config;
    });
    return new RungSlots(rung, rung.size, configs, ctx.space);
  }
  // A promoted rung directly follows a complete rung of its bracket.
  const configs = previous!.promoted(rung.size, ctx.space.direction, ctx.resource, value);
  return new RungSlots(rung, configs.length, configs, ctx.space);
}
