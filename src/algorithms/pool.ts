// Suggestions run off the event loop, in a pool of worker threads (piscina), each call with a
// time limit: a Bayesian-optimisation call of half a second, an algorithm that never returns
// or one that runs out of memory costs a worker, never the server's thread. Workers run at a
// lower priority than the thread that serves requests.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { SuggestRequest, SuggestResult, TrialView } from '../../suggestion-algorithms/model.js';
import type { SuggestTask } from './worker.js';
import type { ImportanceRequest, ImportanceResult } from '../analysis/importance.js';

/** A suggest request whose trials may already be a JSON array (the scheduler keeps them so). */
export type AlgorithmRequest = Omit<SuggestRequest, 'trials'> & { readonly trials: readonly TrialView[] | TrialsJson };
export interface TrialsJson {
  readonly json: string;
}

/** Where algorithms run; the scheduler and the Katib service only see this. */
export interface AlgorithmRunner {
  /** Rejects with AlgorithmError when the algorithm throws or runs out of time, with AbortError when `signal` aborts. */
  suggest(algorithm: string, request: AlgorithmRequest, signal?: AbortSignal): Promise<SuggestResult>;
  /** Parameter importance (src/analysis/importance.ts), with the same time limit; AlgorithmError when it fails. */
  importance(request: ImportanceRequest): Promise<ImportanceResult>;
  close(): Promise<void>;
}

/** The algorithm failed: it threw, ran out of time or memory. The message says which and why. */
export class AlgorithmError extends Error {
  override name = 'AlgorithmError';
}

export interface AlgorithmPoolOptions {
  /** Time limit per call (default 60 s). */
  readonly timeoutMs?: number;
  /** Worker threads (default: one per core but one, at least one). */
  readonly threads?: number;
  /** The worker module (default ./worker.js); tests give a stand-in that misbehaves. */
  readonly worker?: URL;
}

export const DEFAULT_ALGORITHM_TIMEOUT_MS = 60_000;
const DEFAULT_WORKER = new URL('./worker.js', import.meta.url);
/**
 * A worker's heap limit: an algorithm that exceeds it fails its call and the server lives on
 * (a Bayesian-optimisation call at 500 trials uses well under 100 MB; deploy/ gives 1 GiB).
 */
const WORKER_HEAP_MB = 512;

export class AlgorithmPool implements AlgorithmRunner {
  private pool: Piscina | undefined;
  readonly timeoutMs: number;

  constructor(private readonly options: AlgorithmPoolOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ALGORITHM_TIMEOUT_MS;
  }

  /** Threads start with the first call: commands that never suggest pay nothing. */
  private get workers(): Piscina {
    this.pool ??= new Piscina({
      filename: (this.options.worker ?? DEFAULT_WORKER).href,
      minThreads: 0,
      maxThreads: this.options.threads ?? Math.max(1, availableParallelism() - 1),
      idleTimeout: 60_000,
      niceIncrement: 10,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    return this.pool;
  }

  async suggest(algorithm: string, { trials, ...request }: AlgorithmRequest, signal?: AbortSignal): Promise<SuggestResult> {
    signal?.throwIfAborted();
    const task: SuggestTask = { algorithm, request, trials: 'json' in trials ? trials.json : JSON.stringify(trials) };
    const call = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      call.abort(); // piscina ends the worker that runs it
    }, this.timeoutMs);
    const onAbort = () => call.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return (await this.workers.run(task, { signal: call.signal })) as SuggestResult;
    } catch (err) {
      if (timedOut) throw new AlgorithmError(`${algorithm} gave no answer within ${this.timeoutMs / 1000} s`);
      if (signal?.aborted) throw signal.reason ?? err;
      const message = err instanceof Error ? err.message : String(err);
      throw new AlgorithmError(`${algorithm} failed: ${message.length > 2000 ? `${message.slice(0, 2000)}…` : message}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async importance(request: ImportanceRequest): Promise<ImportanceResult> {
    const call = new AbortController();
    const timer = setTimeout(() => call.abort(), this.timeoutMs);
    try {
      return (await this.workers.run(request, { name: 'importance', signal: call.signal })) as ImportanceResult;
    } catch (err) {
      if (call.signal.aborted) throw new AlgorithmError(`parameter importance gave no answer within ${this.timeoutMs / 1000} s`);
      throw new AlgorithmError(`parameter importance failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = undefined;
  }
}
