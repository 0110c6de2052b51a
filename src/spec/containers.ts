// Finding the primary container in any Kubernetes object (TFJob, PyTorchJob, batch Job, …):
// every pod template keeps its containers in a `containers` list, wherever it is nested.
import { isObject } from './read.js';

export interface ContainerView {
  readonly name?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
}

/** The first container named `name`, searched depth-first in document order. */
export function findContainer(root: unknown, name: string): ContainerView | undefined {
  if (Array.isArray(root)) {
    for (const item of root) {
      const found = findContainer(item, name);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(root)) return undefined;
  const containers = root['containers'];
  if (Array.isArray(containers)) {
    const hit = containers.find((c) => isObject(c) && c['name'] === name);
    if (hit) return hit as ContainerView;
  }
  for (const value of Object.values(root)) {
    const found = findContainer(value, name);
    if (found) return found;
  }
  return undefined;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The argv a container would run: its command followed by its args. */
export function containerArgv(c: ContainerView): string[] | undefined {
  const command = isStringList(c.command) ? c.command : [];
  const args = isStringList(c.args) ? c.args : [];
  const argv = [...command, ...args];
  return argv.length > 0 ? argv : undefined;
}
