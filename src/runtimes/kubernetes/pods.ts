// What a trial's pod says about why it does not run, or why it ended: the facts a job's own
// conditions leave out. A Job whose pod cannot pull its image, or cannot be scheduled, is
// neither running nor failed as far as its conditions go; it would wait forever. Pure functions
// of the pod objects the API returns.
import type { KubeObject } from './render.js';

export interface PodProblem {
  /** A CamelCase reason for the trial (Kubernetes' own where it has one). */
  readonly reason: string;
  readonly message: string;
  /** It will not go away by waiting (the trial fails at once); otherwise only after the pending time-out. */
  readonly terminal: boolean;
}

/** Image and container errors that retrying never fixes. */
const TERMINAL_WAITING = new Set(['ErrImageNeverPull', 'InvalidImageName']);
/** Waiting reasons that may clear by themselves (a registry hiccup, a Secret created later). */
const PENDING_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

type ContainerStatus = { name?: string; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number; message?: string } } };

const statuses = (pod: KubeObject): ContainerStatus[] =>
  [...((pod['status']?.initContainerStatuses ?? []) as ContainerStatus[]), ...((pod['status']?.containerStatuses ?? []) as ContainerStatus[])];

/** Why the first of these pods that is not running yet does not run, if the pods say so. */
export function pendingProblem(pods: readonly KubeObject[]): PodProblem | undefined {
  for (const pod of pods) {
    if (pod['status']?.phase !== 'Pending') continue;
    const name = pod['metadata']?.name as string;
    for (const c of statuses(pod)) {
      const w = c.state?.waiting;
      if (!w?.reason) continue;
      if (TERMINAL_WAITING.has(w.reason) || PENDING_WAITING.has(w.reason)) {
        return { reason: w.reason, message: `pod ${name}, container ${c.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`, terminal: TERMINAL_WAITING.has(w.reason) };
      }
    }
    const scheduled = ((pod['status']?.conditions ?? []) as { type?: string; status?: string; reason?: string; message?: string }[]).find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
      return { reason: 'Unschedulable', message: `pod ${name} cannot be scheduled: ${scheduled.message ?? 'no node fits it'}`, terminal: false };
    }
  }
  return undefined;
}

/** How the primary container of a finished pod ended, when it ended badly: for the trial's reason. */
export function terminationProblem(pods: readonly KubeObject[], container: string | undefined): PodProblem | undefined {
  for (const pod of pods) {
    const name = pod['metadata']?.name as string;
    for (const c of (pod['status']?.containerStatuses ?? []) as ContainerStatus[]) {
      if (container !== undefined && c.name !== container) continue;
      const t = c.state?.terminated;
      if (!t || t.exitCode === 0) continue;
      if (t.reason === 'OOMKilled') {
        return { reason: 'OOMKilled', message: `pod ${name}, container ${c.name}: killed for exceeding its memory limit (exit code ${t.exitCode})`, terminal: true };
      }
      return { reason: 'NonZeroExit', message: `pod ${name}, container ${c.name}: exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${t.message ? `: ${t.message}` : ''}`, terminal: true };
    }
  }
  return undefined;
}

/**
 * The primary container is not in the pod that the primary pod labels picked: its log can never be
 * read, whatever the job does (the selector or the container name points elsewhere).
 */
export function missingContainer(pod: KubeObject, container: string | undefined): PodProblem | undefined {
  if (container === undefined) return undefined;
  const names = ((pod['spec']?.containers ?? []) as { name?: string }[]).map((c) => c.name);
  if (names.includes(container)) return undefined;
  return {
    reason: 'PrimaryContainerNotFound',
    message: `pod ${pod['metadata']?.name} (picked by the primary pod labels) has no container "${container}" (its containers: ${names.join(', ') || 'none'}): check primaryContainerName and primaryPodLabels`,
    terminal: true,
  };
}
