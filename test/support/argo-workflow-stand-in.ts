// A STAND-IN for the Argo Workflows controller, for the real cluster: it cannot be built here. It
// registers the Workflow CRD and runs each Workflow's entrypoint steps one pod per step, in order
// (containers "wait" and "main", the template's metadata.labels and workflows.argoproj.io/workflow
// on the pod), then sets status.phase Succeeded or Failed (rules: stand-ins/workloads.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import { WorkloadControllerStandIn } from './stand-ins/cluster-controller.js';
import { argoWorkflowRule } from './stand-ins/workloads.js';

export class ArgoWorkflowControllerStandIn extends WorkloadControllerStandIn {
  constructor(kc: KubeConfig, namespace: string) {
    super(kc, namespace, argoWorkflowRule);
  }
}
