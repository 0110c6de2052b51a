// Failover of `sibyl serve` replicas on one PostgreSQL (issue #13): three replicas run a 30-trial
// local study; the leader is SIGKILLed twice at random moments (and restarted, as a supervisor
// would); the study finishes with every assignment once, none lost, no trial running twice at
// once, and a client watching through a replica that did not lead saw every transition in order.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TRIAL_TRANSITIONS } from '../src/model/transitions.js';
import { processesOwnedBy } from '../src/runtimes/local/orphans.js';
import { PostgresStore } from '../src/store/postgres.js';
import { startPostgres, type PostgresServer } from './support/postgres.js';
import { leads, startReplica, stopReplicas, watchSse, type Replica, type SseWatch } from './support/replicas.js';
import { tempDir } from './support/study.js';
import { until } from './support/wait.js';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

/** 10 × 3 grid points; each trial records its runs (name, pid, start and end in ns) and checks that no earlier run of it is alive. */
const study = (runs: string) => `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: failover}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 3
  maxTrialCount: 30
  parameters:
    - {name: a, parameterType: int, feasibleSpace: {min: "1", max: "10"}}
    - {name: b, parameterType: categorical, feasibleSpace: {list: ["1", "2", "3"]}}
  trialTemplate:
    trialParameters: [{name: a, reference: a}, {name: b, reference: b}]
    command:
      - sh
      - -c
      - |
        for p in $(grep "^start $SIBYL_TRIAL_NAME " ${runs} | cut -d' ' -f3); do
          if [ -e /proc/$p ] && ! grep -q ') Z' /proc/$p/stat 2>/dev/null; then echo "overlap $SIBYL_TRIAL_NAME $p $$" >> ${runs}; fi
        done
        echo "start $SIBYL_TRIAL_NAME $$ $(date +%s%N)" >> ${runs}
        sleep 0.$(( (\${trialParameters.a} * 7 + \${trialParameters.b} * 3) % 7 + 3 ))
        echo "loss=\${trialParameters.a}.\${trialParameters.b}"
        echo "end $SIBYL_TRIAL_NAME $$ $(date +%s%N)" >> ${runs}
`;

const ALLOWED = new Set(Object.values(TRIAL_TRANSITIONS).flatMap((t) => t.from.map((f) => `${f}>${t.to}`)));

test('three replicas: the leader SIGKILLed twice; the 30-trial study finishes with every assignment once, no trial twice at once, watchers saw every transition', { timeout: 170_000 }, async (t) => {
  const dir = tempDir();
  const url = await server.createDatabase('failover');
  const runs = join(dir, 'runs.log');
  writeFileSync(runs, '');
  const file = join(dir, 'study.yaml');
  writeFileSync(file, study(runs));
  const replicas: Replica[] = [];
  const watches: { replica: Replica; watch: SseWatch }[] = [];
  const store = await PostgresStore.open(url);
  try {
    for (const name of ['a', 'b', 'c']) replicas.push(await startReplica(name, url, join(dir, name)));
    const leader = async () => {
      const answers = await Promise.all(replicas.map(async (r) => ((await leads(r)) ? r : undefined)));
      const leading = answers.filter((r): r is Replica => r !== undefined);
      assert.ok(leading.length <= 1, `two leaders at once: ${leading.map((r) => r.name).join(', ')}`);
      return leading[0];
    };
    const first = await until('a leader among three replicas', 20_000, leader);
    const followers = replicas.filter((r) => r !== first);
    const created = await fetch(`${followers[0]!.url}/api/v1/studies`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ specText: readFileSync(file, 'utf8'), workingDir: dir }),
    });
    assert.equal(created.status, 201, await created.text());
    for (const r of followers) watches.push({ replica: r, watch: await watchSse(`${r.url}/api/v1/studies/failover/events`) });

    const succeeded = async () => (await store.trialCounts((await store.getStudyByName('failover'))!.id)).SUCCEEDED;
    const takeovers: number[] = [];
    for (const threshold of [3 + Math.floor(Math.random() * 8), 14 + Math.floor(Math.random() * 8)]) {
      await until(`${threshold} trials succeeded`, 60_000, async () => (await succeeded()) >= threshold);
      await sleep(Math.random() * 400);
      const victim = await until('the leader', 20_000, leader);
      victim.child.kill('SIGKILL');
      const killedAt = performance.now();
      await victim.done;
      const next = await until('a new leader', 20_000, async () => {
        const l = await leader();
        return l !== victim && l;
      });
      takeovers.push(performance.now() - killedAt);
      t.diagnostic(`killed leader ${victim.name} at ${await succeeded()} succeeded trials; ${next.name} took over after ${Math.round(takeovers.at(-1)!)} ms`);
      // Restarted by its supervisor: back as a follower, with the same data directory.
      replicas[replicas.indexOf(victim)] = await startReplica(`${victim.name}'`, url, victim.dataDir);
    }

    const ended = await until('the study to end', 90_000, async () => {
      const s = await store.getStudyByName('failover');
      return s && s.state !== 'RUNNING' && s.state !== 'CREATED' && (await store.activeTrials(s.id)).length === 0 && s;
    }, () => replicas.map((r) => `--- ${r.name}\n${r.log().slice(-3000)}`).join('\n'));
    assert.equal(ended.state, 'SUCCEEDED', `${ended.reason}: ${ended.message}`);
    const trials = await store.listTrials(ended.id);
    assert.equal(trials.length, 30, 'requeued trials are the same trials: none added, none lost');
    assert.ok(trials.every((tr) => tr.state === 'SUCCEEDED'), trials.filter((tr) => tr.state !== 'SUCCEEDED').map((tr) => `${tr.name} ${tr.state} ${tr.message}`).join('\n'));
    const points = trials.map((tr) => `${tr.assignment['a']}/${tr.assignment['b']}`);
    assert.equal(new Set(points).size, 30, 'every grid point exactly once');

    // No two runs of one trial alive at once: each run looked for earlier live runs of its trial
    // at its start, and finished runs do not overlap.
    const lines = readFileSync(runs, 'utf8').trim().split('\n');
    assert.deepEqual(lines.filter((l) => l.startsWith('overlap')), [], 'a run started while an earlier run of its trial was alive');
    const byTrial = new Map<string, { pid: string; start: bigint; end?: bigint }[]>();
    for (const line of lines) {
      const [kind, name, pid, ns] = line.split(' ') as [string, string, string, string];
      const list = byTrial.get(name) ?? [];
      byTrial.set(name, list);
      if (kind === 'start') list.push({ pid, start: BigInt(ns) });
      if (kind === 'end') list.find((r) => r.pid === pid)!.end = BigInt(ns);
    }
    assert.equal(byTrial.size, 30);
    let reruns = 0;
    for (const [name, list] of byTrial) {
      reruns += list.length - 1;
      assert.ok(list.some((r) => r.end !== undefined), `${name} never finished a run`);
      for (let i = 1; i < list.length; i += 1) {
        const previous = list[i - 1]!;
        if (previous.end !== undefined) assert.ok(previous.end <= list[i]!.start, `${name}: run ${list[i]!.pid} started before run ${previous.pid} ended`);
      }
    }

    // Watchers through replicas that did not lead when they connected: those still open at the
    // end (their replica was never killed) saw each trial's transitions in order, ending where the store ends.
    await sleep(1000); // the last events are on their way
    const open = watches.filter((w) => w.watch.open());
    assert.ok(open.length >= 1, `no watched stream stayed open: ${watches.map((w) => `${w.replica.name} alive=${w.replica.alive()} events=${w.watch.events.length}\n${w.replica.log().slice(-2000)}`).join('\n')}`);
    for (const { replica, watch } of open) {
      const seen = new Map<string, string[]>();
      for (const e of watch.events.filter((ev) => ev.type === 'trial')) {
        const states = seen.get(e.data.name) ?? [];
        seen.set(e.data.name, states);
        if (states.at(-1) !== e.data.state) states.push(e.data.state); // a re-read may repeat a state
      }
      for (const trial of trials) {
        const states = seen.get(trial.name) ?? [];
        assert.equal(states[0], 'CREATED', `${replica.name}: ${trial.name} was first seen ${states[0]}`);
        assert.equal(states.at(-1), trial.state, `${replica.name}: ${trial.name} seen ${states.join(' → ')}, the store says ${trial.state}`);
        for (let i = 1; i < states.length; i += 1) assert.ok(ALLOWED.has(`${states[i - 1]}>${states[i]}`), `${replica.name}: ${trial.name} went ${states.join(' → ')}`);
        assert.ok(states.includes('RUNNING'), `${replica.name}: ${trial.name} never seen RUNNING`);
      }
      const studyStates = watch.events.filter((e) => e.type === 'study').map((e) => e.data.state);
      assert.equal(studyStates.at(-1), 'SUCCEEDED', `${replica.name}: the study's events ended ${studyStates.join(' → ')}`);
    }
    t.diagnostic(`takeover times: ${takeovers.map((ms) => `${Math.round(ms)} ms`).join(', ')}; reruns of trials interrupted by a kill: ${reruns}; watchers checked on ${open.map((w) => w.replica.name).join(', ')}`);
    for (const ms of takeovers) assert.ok(ms < 10_000, `a takeover took ${Math.round(ms)} ms`);
    assert.deepEqual(processesOwnedBy(await store.identity()), [], 'no trial process is left behind');
  } finally {
    for (const w of watches) w.watch.close();
    await stopReplicas(replicas);
    await store.close();
  }
});
