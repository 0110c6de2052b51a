// Started by startCluster (kube-cluster.ts) as a detached process: when the test process that
// owns the cluster dies without stopping it (a runner's time-out, SIGKILL), this undoes what the
// cluster did to the machine. It takes the cluster's lock first, and cleans only a cluster its
// parent still owns (a new run may have started and cleaned up meanwhile).
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, lockDataDir, type DataDirLock } from '../../src/store/lock.js';
import { cleanUp, readState, WORK } from './kube-cluster.js';

const parent = Number(process.argv[2]);

while (isAlive(parent)) await sleep(1000);
let lock: DataDirLock | undefined;
while (!lock) {
  if (readState()?.owner !== parent) process.exit(0); // cleaned up, or another run's now
  try {
    lock = lockDataDir(WORK);
  } catch {
    await sleep(1000);
  }
}
if (readState()?.owner === parent) await cleanUp();
lock.release();
