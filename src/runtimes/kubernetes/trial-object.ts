// The object the runtime creates for a trial: the rendered template, with the file collectors'
// wrap of the primary container and the checkpoint mount. One definition for both of its uses:
// the launch, and the dry run of a new study's first trial (dry-run.ts).
import type { LaunchRequest } from '../types.js';
import { mountCheckpoint, type CheckpointVolume } from './checkpoint-volume.js';
import { dumpsFiles, wrapPrimaryContainer } from './metrics-dump.js';
import { renderTrial, type RenderedTrial } from './render.js';

export interface TrialObjectOptions {
  /** Passed to the trial as SIBYL_PUSH_ENDPOINT. */
  readonly pushEndpoint?: string;
  /** Each trial's own push credential, passed to it as SIBYL_PUSH_TOKEN. */
  readonly pushToken?: (trialName: string) => string | undefined;
  /** Where trials keep checkpoint folders: a trial that keeps one gets its folder mounted. */
  readonly checkpointVolume?: CheckpointVolume;
}

export function trialObject(req: LaunchRequest, o: TrialObjectOptions): RenderedTrial {
  const pushToken = o.pushToken?.(req.trialName);
  const rendered = renderTrial(req, {
    ...(o.pushEndpoint ? { pushEndpoint: o.pushEndpoint } : {}),
    ...(pushToken ? { pushToken } : {}),
  });
  if (dumpsFiles(req.metricsCollector)) wrapPrimaryContainer(rendered.object, req.template.primaryContainerName, req.metricsCollector);
  if (req.checkpoint) {
    const volume = o.checkpointVolume;
    if (!volume) throw new Error(`trial ${req.trialName} keeps a checkpoint, and this runtime has no checkpoint volume`);
    mountCheckpoint(rendered.object, { ...req, checkpoint: req.checkpoint }, volume);
  }
  return rendered;
}
