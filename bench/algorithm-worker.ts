// Worker-thread entry of the algorithm benchmark: runs the jobs the main thread posts, one at a
// time, and posts each result (or error) back under the job's id.
import { parentPort } from 'node:worker_threads';
import { runJob, type Job } from './algorithm-jobs.js';

export interface JobMessage {
  readonly id: number;
  readonly job: Job;
}

const port = parentPort;
if (!port) throw new Error('algorithm-worker must run in a worker thread');

port.on('message', ({ id, job }: JobMessage) => {
  try {
    port.postMessage({ id, result: runJob(job) });
  } catch (e) {
    port.postMessage({ id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
