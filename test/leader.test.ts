// Leader election's safety against an API server that stops answering (src/server/leader.ts), on
// the fast tier's fake API server; the real cluster shows the same with its pods cut off
// (test/kube-cluster.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultIdentity, LeaderElector } from '../src/server/leader.js';
import { startFakeKube } from './support/fake-kube/index.js';
import { until } from './support/wait.js';

test('a leader whose calls to the API server hang steps down at its renew deadline, not when the kernel gives up', async () => {
  const { kube, kubeConfig } = await startFakeKube();
  const renewDeadlineMs = 1500;
  const retryPeriodMs = 300;
  let stoppedAt: number | undefined;
  const elector = new LeaderElector(kubeConfig, {
    namespace: 'default', leaseName: 'sibyl-leader', identity: 'a_1', leaseDurationSeconds: 3, retryPeriodMs, renewDeadlineMs, requestTimeoutMs: 400,
  }, {
    onStartedLeading: () => {},
    onStoppedLeading: () => { stoppedAt = Date.now(); },
  });
  try {
    elector.start();
    await until('it leads', 5000, () => elector.isLeader());
    await until('it has renewed', 5000, () => kube.count('PUT', 'leases') > 0);
    // From now on no call to the Lease is ever answered.
    kube.inject({ path: 'leases', count: 1_000_000, hang: true });
    const cut = Date.now();
    await until('it steps down', 5000, () => stoppedAt !== undefined);
    const after = stoppedAt! - cut;
    // Its last renew was at most one retry period (plus a call) before the cut.
    assert.ok(after <= renewDeadlineMs + 200, `stepped down ${after} ms after the cut (deadline ${renewDeadlineMs} ms)`);
    assert.ok(after >= renewDeadlineMs - retryPeriodMs - 400 - 100, `stepped down early: ${after} ms`);
    assert.equal(elector.isLeader(), false);
    // It never campaigns again: a process that lost restarts first.
    const attempts = kube.requests.length;
    await new Promise((r) => setTimeout(r, 3 * retryPeriodMs));
    assert.equal(kube.requests.length, attempts);
  } finally {
    await elector.stop({ release: false });
    await kube.close();
  }
});

test('with the default timings a leader rides out a renewal that gets no answer and renews at its next attempt', { timeout: 60_000 }, async () => {
  const { kube, kubeConfig } = await startFakeKube();
  let lost = false;
  const elector = new LeaderElector(kubeConfig, { namespace: 'default', leaseName: 'sibyl-leader', identity: 'a_1' }, {
    onStartedLeading: () => {},
    onStoppedLeading: () => { lost = true; },
  });
  const renewals = () => kube.count('PUT', 'leases');
  try {
    elector.start();
    await until('it leads', 5000, () => elector.isLeader());
    await until('it has renewed', 10_000, () => renewals() > 0);
    // The next renewal is never answered (an API server's blip): it times out after 5 s.
    kube.inject({ method: 'PUT', path: 'leases', count: 1, hang: true });
    const before = renewals();
    await until('the hanging renewal', 10_000, () => renewals() > before);
    await until('a renewal after it', 15_000, () => renewals() > before + 1 && kube.pendingFaults === 0);
    await new Promise((r) => setTimeout(r, 1000)); // the later renewal has been answered
    assert.equal(lost, false, 'it did not step down');
    assert.equal(elector.isLeader(), true);
  } finally {
    await elector.stop({ release: false });
    await kube.close();
  }
});

test('each start of a process is a new candidate: the identity is not the pid (always 1 in a container)', () => {
  const env = { POD_NAME: 'sibyl-7c9f-abcde' };
  const [a, b] = [defaultIdentity(env), defaultIdentity(env)];
  assert.match(a, /^sibyl-7c9f-abcde_[0-9a-f]{8}$/);
  assert.notEqual(a, b);
  assert.ok(!a.endsWith(`_${process.pid}`));
});
