// What a trial's pods say about why they do not run, or how they ended (src/runtimes/kubernetes/pods.ts),
// on pod objects as a 1.20 kubelet reports them (the same shapes the cluster tier produces for real).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pendingProblem, terminationProblem } from '../src/runtimes/kubernetes/pods.js';

const pod = (status: Record<string, unknown>, name = 'study-0001-abcde') => ({ metadata: { name }, status });
const waiting = (reason: string, message = '') => ({ phase: 'Pending', containerStatuses: [{ name: 'trial', state: { waiting: { reason, message } } }] });

test('an image that can never be had is terminal; pull back-offs and config errors wait for the pending time-out', () => {
  assert.deepEqual(pendingProblem([pod(waiting('ErrImageNeverPull', 'Container image "sibyl/none:1" is not present with pull policy of Never'))]), {
    reason: 'ErrImageNeverPull',
    message: 'pod study-0001-abcde, container trial: ErrImageNeverPull: Container image "sibyl/none:1" is not present with pull policy of Never',
    terminal: true,
  });
  assert.equal(pendingProblem([pod(waiting('InvalidImageName'))])?.terminal, true);
  for (const reason of ['ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError']) {
    assert.deepEqual([pendingProblem([pod(waiting(reason))])?.reason, pendingProblem([pod(waiting(reason))])?.terminal], [reason, false], reason);
  }
  // ContainerCreating is what every pod goes through: no problem.
  assert.equal(pendingProblem([pod(waiting('ContainerCreating'))]), undefined);
  assert.equal(pendingProblem([pod({ phase: 'Running' })]), undefined);
  assert.equal(pendingProblem([]), undefined);
});

test('an unschedulable pod says why, and waits for the pending time-out (a node may be added)', () => {
  const p = pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }] });
  assert.deepEqual(pendingProblem([p]), { reason: 'Unschedulable', message: 'pod study-0001-abcde cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory.', terminal: false });
  assert.equal(pendingProblem([pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] })]), undefined);
});

test('a finished pod names an OOM kill or the exit code of the primary container', () => {
  const ended = (name: string, terminated: Record<string, unknown>) => ({ name, state: { terminated } });
  const oom = pod({ phase: 'Failed', containerStatuses: [ended('trial', { reason: 'OOMKilled', exitCode: 137 })] });
  assert.deepEqual(terminationProblem([oom], 'trial'), { reason: 'OOMKilled', message: 'pod study-0001-abcde, container trial: killed for exceeding its memory limit (exit code 137)', terminal: true });
  const exit = pod({ phase: 'Failed', containerStatuses: [ended('sidecar', { exitCode: 0 }), ended('trial', { reason: 'Error', exitCode: 3 })] });
  assert.deepEqual([terminationProblem([exit], 'trial')?.reason, terminationProblem([exit], 'trial')?.message], ['NonZeroExit', 'pod study-0001-abcde, container trial: exit code 3 (Error)']);
  // Another container's failure is not the primary's.
  assert.equal(terminationProblem([pod({ phase: 'Failed', containerStatuses: [ended('sidecar', { exitCode: 1 }), ended('trial', { exitCode: 0 })] })], 'trial'), undefined);
  assert.equal(terminationProblem([], 'trial'), undefined);
});
