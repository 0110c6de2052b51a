// Trial processes outlive a runner killed with SIGKILL (each trial has its own session).
// Every trial carries SIBYL_OWNER=<data dir> in its environment (replicas of one PostgreSQL
// store: the store's identity), so the next runner of that data directory (or store) can find
// and end them before it relaunches their trials. /proc is this machine's: that guarantee holds
// for replicas on one machine.
import { readdirSync, readFileSync } from 'node:fs';

export const OWNER_ENV = 'SIBYL_OWNER';

/** Process ids (not zombies) whose environment carries the owner tag. Linux only. */
export function processesOwnedBy(owner: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // no procfs: nothing we can find
  }
  const needle = Buffer.from(`\0${OWNER_ENV}=${owner}\0`);
  const first = Buffer.from(`${OWNER_ENV}=${owner}\0`);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`);
      if (!(env.includes(needle) || env.subarray(0, first.length).equals(first))) continue;
      if (processState(pid) === 'Z') continue;
      found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function processState(pid: number): string | undefined {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

/** SIGKILLs every process of the owner (and its process group), and waits until they are gone. */
export async function killOwnedProcesses(owner: string, timeoutMs = 5000): Promise<number> {
  const pids = processesOwnedBy(owner);
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // not a group leader
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (processesOwnedBy(owner).length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return pids.length;
}
