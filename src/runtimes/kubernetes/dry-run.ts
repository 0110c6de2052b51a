// Whether the cluster takes a new study's trial objects, asked before the study is accepted: the
// first trial exactly as the runtime would create it (trial-object.ts, on the space's first
// assignment, under the name of trial 0, which no trial has), created with dryRun=All, so that
// the API server's own decoding, schema (a CRD's too), admission and RBAC judge it and nothing is
// kept. Without it a template the cluster refuses (a container `command` of numbers, a replica
// count that is a string) is accepted, and each of its trials then ends LaunchFailed.
//
// A refusal becomes a SpecError naming the field. No answer (a cluster that is down or slow,
// throttling, a server error, a full quota) is not a refusal: the study is accepted and its trials
// retry their creates as always.
import type { KubeConfig } from '@kubernetes/client-node';
import { excerpt } from '../../model/limits.js';
import { firstAssignment } from '../../spec/assignment.js';
import { SpecError } from '../../spec/errors.js';
import type { StudySpec } from '../../spec/types.js';
import { trialName } from '../../store/store.js';
import { checkpointOf } from '../checkpoint.js';
import type { LaunchRequest } from '../types.js';
import { describeError, failureStatus, KubeApi, statusOf } from './api.js';
import { trialObject, type TrialObjectOptions } from './trial-object.js';

export interface TrialDryRunOptions extends TrialObjectOptions {
  /** The deadline of the dry run: a study's creation waits for it (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** Why a study was accepted unchecked (one line each). */
  readonly log?: (message: string) => void;
}

/** How long a refusal's message may be in the error (API server messages quote the whole value). */
const MESSAGE_CHARS = 600;

export class TrialDryRun {
  private readonly api: KubeApi;

  constructor(kubeConfig: KubeConfig, private readonly options: TrialDryRunOptions = {}) {
    this.api = new KubeApi(kubeConfig, { requestTimeoutMs: options.requestTimeoutMs ?? 5_000 });
  }

  /** Throws SpecError when the cluster refuses the study's first trial object. */
  async check(spec: StudySpec, baseDir: string): Promise<void> {
    const req: LaunchRequest = {
      trialName: trialName(spec.name, 0),
      studyName: spec.name,
      namespace: spec.namespace,
      assignment: firstAssignment(spec.parameters),
      template: spec.trialTemplate,
      baseDir,
      metricsCollector: spec.metricsCollector,
      ...checkpointOf(spec, {}),
    };
    const { object, resource, namespace } = trialObject(req, this.options);
    try {
      await this.api.create(resource, namespace, object, { dryRun: true });
    } catch (err) {
      const refusal = refusalOf(err, req, object['apiVersion'], object['kind']);
      if (refusal) throw refusal;
      this.options.log?.(`study ${spec.name}: its trial object was not checked against the cluster (${describeError(err)}); its trials will show any problem`);
    }
  }
}

/** The SpecError a failed dry run means, or undefined when it says nothing about the study. */
function refusalOf(err: unknown, req: LaunchRequest, apiVersion: string, kind: string): SpecError | undefined {
  const code = statusOf(err);
  const status = failureStatus(err);
  const message = excerpt(status.message ?? `HTTP ${code}`, MESSAGE_CHARS);
  const what = `the cluster refuses this study's trials: the first (a ${kind} of ${apiVersion}, with ${JSON.stringify(req.assignment)})`;
  switch (code) {
    case 400:
    case 422: {
      // A schema refusal names the object's field; the template's is the same path below trialSpec.
      const field = status.causes.find((c) => c.field)?.field;
      return new SpecError(field ? `spec.trialTemplate.trialSpec.${field}` : 'spec.trialTemplate.trialSpec', `${what} is invalid: ${message}`);
    }
    case 403:
      if (/exceeded quota/i.test(message)) return undefined; // full for now, not for good
      return new SpecError('spec.trialTemplate.trialSpec', `${what} may not be created: ${message}`);
    case 404:
      if (status.kind === 'namespaces') return new SpecError('metadata.namespace', `namespace "${req.namespace}" does not exist in the cluster`);
      return new SpecError('spec.trialTemplate.trialSpec.kind', `the cluster does not serve ${kind} in ${apiVersion} (is its operator installed, with its CRD?): ${message}`);
    default:
      return undefined; // 409: trial 0 exists (made by hand); 5xx, 429, no answer: not known now
  }
}
