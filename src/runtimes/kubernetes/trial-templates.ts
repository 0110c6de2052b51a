// Trial templates kept in ConfigMaps (Katib labels them katib.kubeflow.org/component:
// trial-templates), read from the cluster when a study is created.
import type { KubeConfig } from '@kubernetes/client-node';
import { SpecError } from '../../spec/errors.js';
import type { TrialTemplateSource } from '../../spec/template-source.js';
import { describeError, KubeApi, statusOf } from './api.js';

export class ClusterTrialTemplates implements TrialTemplateSource {
  private readonly api: KubeApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = new KubeApi(kubeConfig);
  }

  async configMapData(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined> {
    try {
      return await this.api.configMapData(namespace, name);
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return undefined;
      if (status === 403) {
        throw new SpecError('spec.trialTemplate.configMap.configMapNamespace', `Sibyl may not read ConfigMaps in namespace ${namespace} (${describeError(err)}): grant its service account get on configmaps there`);
      }
      throw new Error(describeError(err));
    }
  }
}
