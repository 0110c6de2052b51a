// Conditional parameters (a tree of parameters, as in Vizier's conditional search spaces and
// Optuna's define-by-run): which parameters an assignment activates, and the one rule every
// algorithm applies to what it proposes: an inactive parameter has no value.
import type { Assignment, Condition, Parameter, ParamValue, SearchSpace } from './model.js';
import { normalizeValue } from './space.js';

export function isConditional(space: SearchSpace): boolean {
  return space.parameters.some((p) => p.condition !== undefined);
}

/** Whether a parent's (normalised) value satisfies a condition. */
export function conditionHolds(condition: Condition, value: ParamValue): boolean {
  if ('values' in condition) return condition.values.includes(value);
  if (typeof value !== 'number') return false;
  return (condition.min === undefined || value >= condition.min) && (condition.max === undefined || value <= condition.max);
}

const orders = new WeakMap<readonly Parameter[], readonly Parameter[]>();

/**
 * The parameters with every parent before its children (space order otherwise). The spec
 * refuses cycles and unknown parents; should a space still carry one, the parameters it
 * involves are left out, so they are never active.
 */
export function parentsFirst(space: SearchSpace): readonly Parameter[] {
  const cached = orders.get(space.parameters);
  if (cached) return cached;
  const placed = new Set<string>();
  const order: Parameter[] = [];
  let pending = [...space.parameters];
  for (let progress = true; progress && pending.length > 0; ) {
    progress = false;
    const rest: Parameter[] = [];
    for (const p of pending) {
      if (p.condition === undefined || placed.has(p.condition.parent)) {
        order.push(p);
        placed.add(p.name);
        progress = true;
      } else rest.push(p);
    }
    pending = rest;
  }
  orders.set(space.parameters, order);
  return order;
}

/** Names of the parameters an assignment activates (reading the parents' values in it). */
export function activeNames(space: SearchSpace, assignment: Assignment): Set<string> {
  const byName = new Map(space.parameters.map((p) => [p.name, p]));
  const active = new Set<string>();
  for (const p of parentsFirst(space)) {
    const c = p.condition;
    if (c === undefined) {
      active.add(p.name);
      continue;
    }
    const parent = byName.get(c.parent) as Parameter;
    const value = normalizeValue(parent, assignment[c.parent]);
    if (active.has(c.parent) && value !== undefined && conditionHolds(c, value)) active.add(p.name);
  }
  return active;
}

/**
 * The assignment without its inactive parameters, in space order. Algorithms that draw or
 * model every parameter (imputing the inactive ones) end with this, so what is stored, shown
 * and run holds exactly the active subtree.
 */
export function pruneInactive(space: SearchSpace, assignment: Assignment): Assignment {
  if (!isConditional(space)) return assignment;
  const active = activeNames(space, assignment);
  const out: Record<string, ParamValue> = {};
  for (const p of space.parameters) {
    const v = assignment[p.name];
    if (active.has(p.name) && v !== undefined) out[p.name] = v;
  }
  return out;
}

/** What is wrong with an assignment's tree: an inactive parameter given, or an active one missing. */
export function treeProblem(space: SearchSpace, assignment: Assignment): { readonly parameter: string; readonly reason: string } | undefined {
  const active = activeNames(space, assignment);
  for (const p of space.parameters) {
    const given = assignment[p.name] !== undefined;
    if (active.has(p.name) && !given) return { parameter: p.name, reason: 'is active in this assignment but has no value' };
    if (!active.has(p.name) && given) {
      const c = p.condition as Condition;
      return { parameter: p.name, reason: `is inactive in this assignment (its condition on "${c.parent}" does not hold) and must be left out` };
    }
  }
  return undefined;
}

/** The same space without conditions: every parameter always active. */
export function withoutConditions(space: SearchSpace, names?: ReadonlySet<string>): SearchSpace {
  const parameters = space.parameters
    .filter((p) => names === undefined || names.has(p.name))
    .map((p) => {
      if (p.condition === undefined) return p;
      const { condition: _dropped, ...rest } = p;
      return rest as Parameter;
    });
  return { ...space, parameters };
}
