// What the scheduler gave `launch` for a trial, rebuilt from the store: `recover` needs each
// active trial's namespace, template and study to find its object after a restart.
import type { Store } from '../../store/store.js';
import type { LaunchRequest } from '../types.js';

export function describeTrialFrom(store: Store): (trialName: string) => LaunchRequest | undefined {
  return (trialName) => {
    const trial = store.getTrialByName(trialName);
    const study = trial && store.getStudy(trial.studyId);
    if (!trial || !study) return undefined;
    return {
      trialName,
      studyName: study.name,
      namespace: study.spec.namespace,
      assignment: trial.assignment,
      template: study.spec.trialTemplate,
      baseDir: study.baseDir,
    };
  };
}
