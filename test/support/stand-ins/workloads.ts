// STAND-INS for controllers that cannot be had here (Kubeflow Trainer's TrainJob controller with
// JobSet, Argo Workflows, Tekton Pipelines): what each one does with its object, as pure rules
// over plain JSON. Both the fake API server's operator (fast tier) and the real-cluster pollers
// (test/support/{trainjob-controller,argo-workflow}-stand-in.ts) apply them, so both tiers play
// the same controller. Each rule turns the object into pods in stages (a stage starts when the
// one before succeeded) with the labels and container names the real controller uses, and sets
// the object's status from the pods' phases the way the real controller reports it:
//   TrainJob     numNodes pods of the JobSet's replicated job "node", container "node" built from
//                spec.trainer; conditions Complete / Failed
//   Workflow     one pod per step of the entrypoint's `steps` (or the entrypoint itself), containers
//                "wait" and "main", the template's metadata.labels on the pod; status.phase Succeeded / Failed
//   PipelineRun  one pod per task of spec.pipelineSpec, container "step-<name>" per step;
//                condition Succeeded True / False
// Not played: the runtimes a TrainJob refers to (the trainer must carry image and command), Argo
// and Tekton parameter substitution, DAGs, retries.
export type Obj = Record<string, any>;

export interface PodPlan {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly containers: Obj[];
}

export interface WorkloadRule {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  /** The pods of each stage, in order. */
  stages(obj: Obj): PodPlan[][];
  /** The status for pods in these phases (`phases[i][j]` of stage i's pod j; a stage not started has none). */
  status(obj: Obj, phases: PodPhase[][], previous: Obj | undefined): Obj;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: now() });
const suffix = (name: string) => {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(36).slice(0, 5).padStart(5, '0');
};

/** Where every stage stands: how many pods failed, and whether all of them succeeded. */
function tally(stages: PodPlan[][], phases: PodPhase[][]): { failed: number; done: boolean; running: boolean } {
  const all = phases.flat();
  const planned = stages.flat().length;
  return {
    failed: all.filter((p) => p === 'Failed').length,
    done: all.length === planned && all.every((p) => p === 'Succeeded'),
    running: all.some((p) => p === 'Running'),
  };
}

const container = (name: string, from: Obj): Obj => ({
  name,
  image: from['image'],
  ...(from['command'] ? { command: from['command'] } : {}),
  ...(from['args'] ? { args: from['args'] } : {}),
  ...(from['env'] ? { env: from['env'] } : {}),
  ...(from['workingDir'] ? { workingDir: from['workingDir'] } : {}),
  ...(from['resources'] ? { resources: from['resources'] } : {}),
});

export const trainJobRule: WorkloadRule = {
  group: 'trainer.kubeflow.org',
  version: 'v1alpha1',
  plural: 'trainjobs',
  kind: 'TrainJob',
  stages(job) {
    const name = job['metadata'].name as string;
    const trainer = job['spec']?.trainer ?? {};
    const nodes = Number(trainer['numNodes'] ?? 1);
    const env = [...(trainer['env'] ?? []), { name: 'PET_NNODES', value: String(nodes) }];
    return [
      Array.from({ length: nodes }, (_, i) => ({
        name: `${name}-node-0-${i}-${suffix(`${name}${i}`)}`,
        labels: {
          'jobset.sigs.k8s.io/jobset-name': name,
          'jobset.sigs.k8s.io/replicatedjob-name': 'node',
          'jobset.sigs.k8s.io/job-index': '0',
          'batch.kubernetes.io/job-completion-index': String(i),
          'job-name': `${name}-node-0`,
        },
        containers: [container('node', { ...trainer, env: [...env, { name: 'PET_NODE_RANK', value: String(i) }] })],
      })),
    ];
  },
  status(job, phases) {
    const t = tally(this.stages(job), phases);
    const name = job['metadata'].name;
    if (t.failed > 0) return { conditions: [condition('Failed', 'True', 'JobSetFailed', `jobset ${name}: ${t.failed} node pod(s) failed`)] };
    if (t.done) return { conditions: [condition('Complete', 'True', 'JobSetCompleted', `jobset ${name} completed`)] };
    return { conditions: [condition('Created', 'True', 'JobSetCreated', `jobset ${name} created`)] };
  },
};

/** The templates an Argo Workflow runs, stage by stage: the entrypoint's steps, or the entrypoint. */
function workflowStages(wf: Obj): Obj[][] {
  const templates = new Map(((wf['spec']?.templates ?? []) as Obj[]).map((t) => [t['name'], t]));
  const entry = templates.get(wf['spec']?.entrypoint);
  if (!entry) return [];
  if (!Array.isArray(entry['steps'])) return [[entry]];
  return (entry['steps'] as Obj[][]).map((group) => group.map((step) => templates.get(step['template'])).filter((t): t is Obj => t !== undefined));
}

export const argoWorkflowRule: WorkloadRule = {
  group: 'argoproj.io',
  version: 'v1alpha1',
  plural: 'workflows',
  kind: 'Workflow',
  stages(wf) {
    const name = wf['metadata'].name as string;
    return workflowStages(wf).map((group, i) =>
      group.map((t, j) => ({
        name: `${name}-${t['name']}-${suffix(`${name}${i}${j}`)}`,
        labels: { ...(t['metadata']?.labels ?? {}), 'workflows.argoproj.io/workflow': name },
        // Argo's executor sidecar comes first; it prints nothing a trial needs (a cluster stand-in
        // gives it a command that exits at once).
        containers: [{ name: 'wait' }, container('main', t['container'] ?? t['script'] ?? {})],
      })),
    );
  },
  status(wf, phases, previous) {
    const t = tally(this.stages(wf), phases);
    const startedAt = previous?.['startedAt'] ?? now();
    if (t.failed > 0) return { phase: 'Failed', startedAt, finishedAt: now(), message: 'Error (exit code 1)', progress: `${phases.flat().length - t.failed}/${phases.flat().length}` };
    if (t.done) return { phase: 'Succeeded', startedAt, finishedAt: now(), progress: `${phases.flat().length}/${phases.flat().length}` };
    return { phase: 'Running', startedAt };
  },
};

export const tektonPipelineRunRule: WorkloadRule = {
  group: 'tekton.dev',
  version: 'v1beta1',
  plural: 'pipelineruns',
  kind: 'PipelineRun',
  stages(run) {
    const name = run['metadata'].name as string;
    const tasks = (run['spec']?.pipelineSpec?.tasks ?? []) as Obj[];
    return tasks.map((task) => [
      {
        name: `${name}-${task['name']}-pod`,
        labels: { 'tekton.dev/pipelineRun': name, 'tekton.dev/pipelineTask': task['name'], 'tekton.dev/taskRun': `${name}-${task['name']}` },
        containers: ((task['taskSpec']?.steps ?? []) as Obj[]).map((s) => container(`step-${s['name']}`, s)),
      },
    ]);
  },
  status(run, phases) {
    const t = tally(this.stages(run), phases);
    const total = this.stages(run).length;
    const completed = phases.flat().filter((p) => p === 'Succeeded').length;
    if (t.failed > 0) return { conditions: [condition('Succeeded', 'False', 'Failed', `Tasks Completed: ${completed + t.failed} (Failed: ${t.failed}, Cancelled 0), Skipped: ${total - completed - t.failed}`)] };
    if (t.done) return { conditions: [condition('Succeeded', 'True', 'Succeeded', `Tasks Completed: ${total} (Failed: 0, Cancelled 0), Skipped: 0`)] };
    return { conditions: [condition('Succeeded', 'Unknown', 'Running', `Tasks Completed: ${completed} (Failed: 0, Cancelled 0), Incomplete: ${total - completed}, Skipped: 0`)] };
  },
};

export const WORKLOAD_RULES: readonly WorkloadRule[] = [trainJobRule, argoWorkflowRule, tektonPipelineRunRule];

export const ruleFor = (group: string, plural: string) => WORKLOAD_RULES.find((r) => r.group === group && r.plural === plural);

/** The stage to start now: the first one with no pods yet, once every earlier pod succeeded. */
export function nextStage(stages: PodPlan[][], phases: PodPhase[][]): number | undefined {
  for (let i = 0; i < stages.length; i++) {
    const p = phases[i];
    if (!p || p.length === 0) return stages[i]!.length > 0 ? i : undefined;
    if (!p.every((x) => x === 'Succeeded')) return undefined;
  }
  return undefined;
}
