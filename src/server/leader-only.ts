// Launching only while leading, without the Kubernetes client (the PostgreSQL lock needs it too).
import type { LaunchRequest, RuntimeListener, TrialRuntime } from '../runtimes/types.js';

/**
 * The runtime of a replica that may not be the leader: `launch` does nothing while this process
 * does not lead. The scheduler then leaves the trial CREATED in the store (a follower never
 * creates a Kubernetes object), and when this process becomes the leader, `service.start()`
 * adopts the study and launches its CREATED trials (or re-adopts the objects a previous leader
 * created under the same trial names: creates are idempotent by name).
 */
export function leaderOnlyRuntime(
  factory: (listener: RuntimeListener) => TrialRuntime,
  isLeader: () => boolean,
): (listener: RuntimeListener) => TrialRuntime {
  return (listener) => {
    const inner = factory(listener);
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === 'launch') return (req: LaunchRequest) => (isLeader() ? target.launch(req) : Promise.resolve());
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}
