// A STAND-IN for Kubeflow Trainer's TrainJob controller (and the JobSet controller under it), for
// the real cluster: neither can be built here. It registers the TrainJob CRD and turns each
// TrainJob into the pods a JobSet's replicated job "node" would have (labels jobset-name,
// replicatedjob-name=node, job-completion-index, container "node" from spec.trainer), then sets
// Complete or Failed from the pods' ends (rules: stand-ins/workloads.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import { WorkloadControllerStandIn } from './stand-ins/cluster-controller.js';
import { trainJobRule } from './stand-ins/workloads.js';

export class TrainJobControllerStandIn extends WorkloadControllerStandIn {
  constructor(kc: KubeConfig, namespace: string) {
    super(kc, namespace, trainJobRule);
  }
}
