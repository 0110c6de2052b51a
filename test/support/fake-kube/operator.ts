// The fake's controllers: a Kubeflow training operator (TFJob, PyTorchJob) and the batch Job
// controller create pods with the real label sets (k8s.md §2.4–2.5), the stand-ins of
// ../stand-ins/workloads.ts play TrainJob, Argo Workflow and Tekton PipelineRun controllers, and a
// kubelet runs each pod's first container that has a command (command + args, the container's env, its workingDir mapped to a local
// folder) as a local child process whose stdout+stderr is the pod log. Job status moves through
// the operator's conditions: Created → Running → Succeeded | Failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { FakeKube, Obj } from './server.js';
import { status } from './server.js';
import { nextStage, ruleFor, type PodPhase, type WorkloadRule } from '../stand-ins/workloads.js';

const STAGE_ANNOTATION = 'stand-in.sibyl.dev/stage';

export interface OperatorOptions {
  /** The local folder a container's workingDir runs in (default: the workingDir if it exists, else cwd). */
  readonly resolveWorkingDir?: (workingDir: string | undefined) => string;
  /** Pods stay Pending (no process) until `releasePods()`. */
  readonly holdPods?: boolean;
  /** The API server alone, as in the kube-apiserver tier: no operator, job controller or stand-in acts on new objects. */
  readonly noControllers?: boolean;
}

interface PodRun {
  readonly namespace: string;
  readonly name: string;
  readonly collection: string;
  child?: ChildProcess;
  readonly chunks: { time: number; data: Buffer }[];
  readonly followers: Set<ServerResponse>;
  exited: boolean;
  /** The container the kubelet runs (the others of the pod print nothing). */
  container?: string;
}

const KUBEFLOW_PLURALS = new Set(['tfjobs', 'pytorchjobs', 'xgboostjobs', 'mpijobs']);

export class Operator {
  private readonly runs = new Map<string, PodRun>();
  private readonly held: (() => void)[] = [];
  private holding: boolean;

  constructor(
    private readonly kube: FakeKube,
    private readonly options: OperatorOptions,
  ) {
    this.holding = options.holdPods ?? false;
  }

  /** Starts the pods held so far and stops holding new ones. */
  releasePods(): void {
    this.holding = false;
    for (const start of this.held.splice(0)) start();
  }

  holdPods(): void {
    this.holding = true;
  }

  /** The log of a pod as the kubelet holds it. */
  podLog(namespace: string, name: string): string {
    const run = this.runs.get(`${namespace}/${name}`);
    return run ? Buffer.concat(run.chunks.map((c) => c.data)).toString('utf8') : '';
  }

  /** Cuts every open `follow=true` log stream (the client sees the body end early). */
  dropLogStreams(): void {
    for (const run of this.runs.values()) for (const res of run.followers) res.destroy();
  }

  killAll(): void {
    for (const run of this.runs.values()) kill(run);
  }

  /** Called for every write: new jobs get pods. */
  changed(collection: string, obj: Obj): void {
    const [group, , namespace, plural] = collection.split('|') as [string, string, string, string];
    if (this.options.noControllers || obj['metadata'].generation !== 1 || obj['status']) return; // only fresh creates
    if (group === 'kubeflow.org' && KUBEFLOW_PLURALS.has(plural)) setImmediate(() => this.startKubeflowJob(collection, namespace, obj['metadata'].name));
    else if (group === 'batch' && plural === 'jobs') setImmediate(() => this.startBatchJob(collection, namespace, obj['metadata'].name));
    else {
      const rule = ruleFor(group, plural);
      if (rule) setImmediate(() => this.reconcileWorkload(collection, namespace, obj['metadata'].name, rule));
    }
  }

  /** A stand-in controller's pass: status from the pods' phases, then the next stage's pods. */
  private reconcileWorkload(collection: string, namespace: string, name: string, rule: WorkloadRule): void {
    const job = this.kube.get(collection, name);
    if (!job) return;
    const stages = rule.stages(job);
    const pods = this.kube.list(this.kube.collectionKey('', 'v1', namespace, 'pods')).filter((p) => p['metadata'].ownerReferences?.[0]?.uid === job['metadata'].uid);
    const phases: PodPhase[][] = stages.map((_, i) => pods.filter((p) => p['metadata'].annotations?.[STAGE_ANNOTATION] === String(i)).map((p) => p['status'].phase));
    job['status'] = rule.status(job, phases, job['status']);
    this.kube.write(collection, job, 'MODIFIED');
    const next = nextStage(stages, phases);
    if (next === undefined) return;
    for (const plan of stages[next]!) {
      this.createPod(namespace, job, plan.name, { metadata: { annotations: { [STAGE_ANNOTATION]: String(next) } }, spec: { restartPolicy: 'Never', containers: plan.containers } }, plan.labels);
    }
  }

  deleted(collection: string, obj: Obj): void {
    if (collection.endsWith('|pods')) {
      const run = this.runs.get(`${obj['metadata'].namespace}/${obj['metadata'].name}`);
      if (run) kill(run);
    }
  }

  private startKubeflowJob(collection: string, namespace: string, name: string): void {
    const job = this.kube.get(collection, name);
    if (!job || job['status']) return;
    const kind = String(job['kind']);
    const specs = Object.entries(job['spec'] ?? {}).find(([k]) => k.endsWith('ReplicaSpecs'))?.[1] as Record<string, Obj> | undefined;
    const now = new Date().toISOString();
    job['status'] = { conditions: [condition('Created', 'True', `${kind}Created`, `${kind} ${name} is created.`)], startTime: now, replicaStatuses: {} };
    this.kube.write(collection, job, 'MODIFIED');
    const types = Object.keys(specs ?? {});
    const hasMaster = types.some((t) => /^(chief|master)$/i.test(t));
    for (const [type, spec] of Object.entries(specs ?? {})) {
      for (let i = 0; i < (spec['replicas'] ?? 1); i++) {
        const primary = hasMaster ? /^(chief|master)$/i.test(type) : /^worker$/i.test(type) && i === 0;
        const template = spec['template'] ?? {};
        this.createPod(namespace, job, `${name}-${type.toLowerCase()}-${i}`, template, {
          'training.kubeflow.org/job-name': name,
          'training.kubeflow.org/operator-name': `${kind.toLowerCase().replace(/job$/, '')}job-controller`,
          'training.kubeflow.org/replica-type': type.toLowerCase(),
          'training.kubeflow.org/replica-index': String(i),
          ...(primary ? { 'training.kubeflow.org/job-role': 'master' } : {}),
        });
      }
    }
  }

  private startBatchJob(collection: string, namespace: string, name: string): void {
    const job = this.kube.get(collection, name);
    if (!job || job['status']) return;
    job['status'] = { startTime: new Date().toISOString(), active: 1 };
    this.kube.write(collection, job, 'MODIFIED');
    const uid = job['metadata'].uid;
    const suffix = Math.random().toString(36).slice(2, 7).padEnd(5, 'x');
    this.createPod(namespace, job, `${name}-${suffix}`, job['spec']?.template ?? {}, {
      'job-name': name,
      'controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'batch.kubernetes.io/controller-uid': uid,
    });
  }

  private createPod(namespace: string, owner: Obj, name: string, template: Obj, labels: Record<string, string>): void {
    const collection = this.kube.collectionKey('', 'v1', namespace, 'pods');
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        labels: { ...(template['metadata']?.labels ?? {}), ...labels },
        ...(template['metadata']?.annotations ? { annotations: template['metadata'].annotations } : {}),
        ownerReferences: [{ apiVersion: owner['apiVersion'], kind: owner['kind'], name: owner['metadata'].name, uid: owner['metadata'].uid, controller: true }],
      },
      spec: structuredClone(template['spec'] ?? {}),
      status: { phase: 'Pending' },
    };
    this.kube.insert(collection, pod);
    const run: PodRun = { namespace, name, collection, chunks: [], followers: new Set(), exited: false };
    this.runs.set(`${namespace}/${name}`, run);
    const start = () => this.runPod(run);
    if (this.holding) this.held.push(start);
    else setImmediate(start);
  }

  private runPod(run: PodRun): void {
    const pod = this.kube.get(run.collection, run.name);
    if (!pod) return;
    const containers = (pod['spec'].containers ?? []) as Obj[];
    const container = containers.find((c) => (c['command'] ?? c['args'] ?? []).length > 0) ?? containers[0];
    run.container = container?.['name'];
    const argv = [...(container?.['command'] ?? []), ...(container?.['args'] ?? [])] as string[];
    if (!container || argv.length === 0) return this.podExited(run, 1, 'the fake kubelet needs a command');
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' };
    for (const e of container['env'] ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
    const cwd = this.options.resolveWorkingDir?.(container['workingDir']) ?? (container['workingDir'] && existsSync(container['workingDir']) ? container['workingDir'] : process.cwd());
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    run.child = child;
    const append = (data: Buffer) => {
      run.chunks.push({ time: Date.now(), data });
      for (const res of run.followers) res.write(data);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    child.on('error', (err) => append(Buffer.from(`exec failed: ${err.message}\n`)));
    child.on('close', (code, signal) => this.podExited(run, code ?? (signal ? 137 : 1)));
    pod['status'] = {
      phase: 'Running',
      startTime: new Date().toISOString(),
      containerStatuses: [{ name: container['name'], ready: true, started: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }],
    };
    this.kube.write(run.collection, pod, 'MODIFIED');
    this.podChanged(pod);
  }

  private podExited(run: PodRun, exitCode: number, message?: string): void {
    run.exited = true;
    for (const res of run.followers) res.end();
    run.followers.clear();
    const pod = this.kube.get(run.collection, run.name);
    if (!pod) return; // deleted: killed with its job
    const name = run.container ?? pod['spec'].containers?.[0]?.name ?? 'main';
    pod['status'] = {
      ...pod['status'],
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{ name, ready: false, started: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...(message ? { message } : {}), finishedAt: new Date().toISOString() } } }],
    };
    this.kube.write(run.collection, pod, 'MODIFIED');
    this.podChanged(pod);
  }

  /** The operator's reconcile of the pod's owner after a pod changed phase. */
  private podChanged(pod: Obj): void {
    const owner = pod['metadata'].ownerReferences?.[0] as Obj | undefined;
    if (!owner) return;
    const namespace = pod['metadata'].namespace;
    const [group, version] = String(owner['apiVersion']).split('/') as [string, string];
    const plural = group === 'batch' ? 'jobs' : `${String(owner['kind']).toLowerCase()}s`;
    const collection = this.kube.collectionKey(group, version, namespace, plural);
    const rule = ruleFor(group, plural);
    if (rule) return this.reconcileWorkload(collection, namespace, owner['name'], rule);
    const job = this.kube.get(collection, owner['name']);
    if (!job || job['metadata'].uid !== owner['uid']) return;
    const pods = this.kube.list(this.kube.collectionKey('', 'v1', namespace, 'pods')).filter((p) => p['metadata'].ownerReferences?.[0]?.uid === owner['uid']);
    const conditions = (job['status']?.conditions ?? []) as Obj[];
    if (conditions.some((c) => (c['type'] === 'Failed' || c['type'] === 'Succeeded' || c['type'] === 'Complete') && c['status'] === 'True')) return;
    const now = new Date().toISOString();
    const failed = pods.filter((p) => p['status'].phase === 'Failed');
    if (group === 'batch') {
      const status: Obj = { ...job['status'], active: pods.filter((p) => p['status'].phase === 'Running' || p['status'].phase === 'Pending').length };
      if (failed.length > 0) {
        status['failed'] = failed.length;
        status['conditions'] = [condition('Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')];
      } else if (pods.some((p) => p['status'].phase === 'Succeeded')) {
        status['succeeded'] = 1;
        status['completionTime'] = now;
        status['conditions'] = [condition('Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods')];
      }
      job['status'] = status;
      return void this.kube.write(collection, job, 'MODIFIED');
    }
    const kind = String(job['kind']);
    const ns = `${namespace}/${job['metadata'].name}`;
    const replicaStatuses: Obj = {};
    for (const p of pods) {
      const type = capitalize(p['metadata'].labels['training.kubeflow.org/replica-type']);
      const rs = (replicaStatuses[type] ??= { active: 0, succeeded: 0, failed: 0 });
      if (p['status'].phase === 'Running') rs.active++;
      if (p['status'].phase === 'Succeeded') rs.succeeded++;
      if (p['status'].phase === 'Failed') rs.failed++;
    }
    let next = conditions;
    const primary = pods.find((p) => p['metadata'].labels['training.kubeflow.org/job-role'] === 'master');
    if (failed.length > 0) {
      const type = capitalize(failed[0]!['metadata'].labels['training.kubeflow.org/replica-type']);
      next = setCondition(next, condition('Failed', 'True', `${kind}Failed`, `${kind} ${ns} has failed because ${failed.length} ${type} replica(s) failed.`));
    } else if (primary?.['status'].phase === 'Succeeded') {
      next = setCondition(next, condition('Succeeded', 'True', `${kind}Succeeded`, `${kind} ${ns} successfully completed.`));
    } else if (pods.some((p) => p['status'].phase === 'Running') && !conditions.some((c) => c['type'] === 'Running')) {
      next = setCondition(next, condition('Running', 'True', `${kind}Running`, `${kind} ${ns} is running.`));
    } else {
      return;
    }
    const terminal = next.some((c) => (c['type'] === 'Failed' || c['type'] === 'Succeeded') && c['status'] === 'True');
    job['status'] = { ...job['status'], conditions: next, replicaStatuses, lastReconcileTime: now, ...(terminal ? { completionTime: now } : {}) };
    this.kube.write(collection, job, 'MODIFIED');
  }

  serveLog(namespace: string, name: string, query: URLSearchParams, res: ServerResponse): void {
    const pod = this.kube.get(this.kube.collectionKey('', 'v1', namespace, 'pods'), name);
    const send = (code: number, body: Obj) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!pod) return send(404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
    const run = this.runs.get(`${namespace}/${name}`);
    // The apiserver's answers for a container the pod does not have, or none named in a pod of several.
    const names = ((pod['spec'].containers ?? []) as Obj[]).map((c) => c['name'] as string);
    const asked = query.get('container');
    if (asked !== null && asked !== '' && !names.includes(asked)) return send(400, status(400, 'BadRequest', `container ${asked} is not valid for pod ${name}`));
    if ((asked === null || asked === '') && names.length > 1) return send(400, status(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`));
    const container = asked || names[0];
    if (!run?.child && !run?.exited) return send(400, status(400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`));
    const since = query.get('sinceTime') ? Date.parse(query.get('sinceTime')!) : undefined;
    if (run.container !== undefined && container !== run.container) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void res.end(''); // a container the fake kubelet does not run prints nothing
    }
    let text = Buffer.concat(run.chunks.filter((c) => since === undefined || c.time >= since).map((c) => c.data)).toString('utf8');
    const tail = query.get('tailLines');
    if (tail !== null) {
      const lines = text.split('\n');
      const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
      text = lines.slice(-Number(tail)).join('\n') + (trailing !== undefined ? '\n' : '');
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', ...(query.get('follow') === 'true' ? { 'Transfer-Encoding': 'chunked' } : {}) });
    if (query.get('follow') !== 'true' || run.exited) return void res.end(text);
    res.write(text);
    run.followers.add(res);
    res.on('close', () => run.followers.delete(res));
  }
}

function condition(type: string, status: string, reason: string, message: string): Obj {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

/** pkg/util/status.go: replace, never duplicate; Succeeded/Failed flip Running to False. */
function setCondition(conditions: Obj[], c: Obj): Obj[] {
  const out = conditions
    .filter((x) => x['type'] !== c['type'])
    .map((x) => ((c['type'] === 'Succeeded' || c['type'] === 'Failed') && x['type'] === 'Running' ? { ...x, status: 'False' } : x));
  return [...out, c];
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function kill(run: PodRun): void {
  const pid = run.child?.pid;
  if (pid === undefined || run.exited) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
