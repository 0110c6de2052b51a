// HTTP to the REST API with Node's fetch: JSON in and out, the bearer token, a time limit on
// every attempt, and bounded retries with exponential backoff and full jitter on a lost
// connection, no answer in time, and 503 only. A 4xx is the caller's mistake and is never sent
// again; a 500 is a bug that sending again would not fix.
import { errorFromResponse, ServerError, SibylError, UnavailableError } from './errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** The n-th retry sleeps a random time in [0, min(maxMs, baseMs · 2^n)]. */
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseMs: 100, maxMs: 4000 };
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface TransportOptions {
  /** The server's token: sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** The time limit of one attempt, from sending to the whole answer read. */
  readonly timeoutMs?: number | undefined;
  readonly retry?: Partial<RetryPolicy> | undefined;
}

export interface RequestOptions {
  readonly body?: unknown;
  /** Query parameters; undefined values are left out. */
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** The caller's own cancellation: never retried. */
  readonly signal?: AbortSignal | undefined;
}

/** What one attempt came to: an answer, or why none came. */
type Attempt = { readonly status: number; readonly body: unknown; readonly text: string } | { readonly lost: string };

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const timer = setTimeout(done, ms);
  function done() {
    signal?.removeEventListener('abort', aborted);
    resolve();
  }
  function aborted() {
    clearTimeout(timer);
    reject(signal!.reason);
  }
  signal?.addEventListener('abort', aborted, { once: true });
});

/**
 * A failed fetch as a lost connection (the time limit, or a network error: fetch's "fetch
 * failed" or "terminated" with the reason as its cause); anything else, such as a token that
 * is no valid header value, is the caller's and is thrown, never retried.
 */
function lostOr(err: unknown, timer: AbortSignal, timeoutMs: number): { lost: string } {
  if (timer.aborted) return { lost: `no answer within ${timeoutMs} ms` };
  if (err instanceof TypeError && err.cause instanceof Error) return { lost: err.cause.message };
  throw err;
}

export class Transport {
  /** `http(s)://host:port/prefix/api/v1` */
  readonly apiBase: string;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(url: string, options: TransportOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`the server URL must be http(s)://host[:port] (got ${JSON.stringify(url)})`);
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search || parsed.hash) {
      throw new TypeError(`the server URL must be http(s)://host[:port] (got ${JSON.stringify(url)})`);
    }
    this.apiBase = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}/api/v1`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive (got ${this.timeoutMs})`);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (!(Number.isInteger(this.retry.attempts) && this.retry.attempts >= 1)) throw new RangeError(`retry.attempts must be a whole number of at least 1 (got ${this.retry.attempts})`);
    this.headers = {
      accept: 'application/json',
      ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
    };
  }

  /** The decoded JSON answer (undefined for 204), or the SibylError for the refusal. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const init: RequestInit = {
      method,
      headers: { ...this.headers, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    };
    return this.withRetries<T>(method, path, options.signal, async (attempt) => {
      const answer = await this.attempt(url, init, options.signal);
      if ('lost' in answer) return answer;
      if (answer.status < 300) {
        if (answer.text !== '' && answer.body === undefined) throw this.notTheApi(answer.status, attempt);
        return { value: answer.body as T };
      }
      return { refusal: errorFromResponse(answer.status, answer.body ?? answer.text, attempt) };
    });
  }

  /**
   * A response whose body is read as it comes (an event stream): the time limit holds until its
   * headers arrive, and only the connection is retried. Its body ends when `signal` aborts.
   */
  async open(path: string, signal: AbortSignal): Promise<Response> {
    const url = this.url(path);
    return this.withRetries<Response>('GET', path, signal, async (attempt) => {
      const timer = new AbortController();
      const timeout = setTimeout(() => timer.abort(), this.timeoutMs);
      let res: Response;
      try {
        res = await fetch(url, { headers: { ...this.headers, accept: 'text/event-stream' }, signal: AbortSignal.any([signal, timer.signal]) });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        return lostOr(err, timer.signal, this.timeoutMs);
      } finally {
        clearTimeout(timeout);
      }
      if (res.ok) return { value: res };
      const text = await res.text().catch(() => '');
      return { refusal: errorFromResponse(res.status, parseJson(text) ?? text, attempt) };
    });
  }

  private url(path: string, query: RequestOptions['query'] = {}): string {
    const pairs = Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined);
    return `${this.apiBase}${path}${pairs.length ? `?${new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, String(v)]))}` : ''}`;
  }

  /** One attempt, its whole answer read within the time limit. */
  private async attempt(url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Attempt> {
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), this.timeoutMs);
    try {
      const res = await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timer.signal]) : timer.signal });
      const text = await res.text();
      return { status: res.status, text, body: parseJson(text) };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      return lostOr(err, timer.signal, this.timeoutMs);
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Runs `once` until it gives a value, a refusal that is not 503, or the attempts run out. */
  private async withRetries<T>(
    method: string,
    path: string,
    signal: AbortSignal | undefined,
    once: (attempt: number) => Promise<{ value: T } | { refusal: SibylError } | { lost: string }>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await once(attempt);
      if ('value' in outcome) return outcome.value;
      const last = attempt >= this.retry.attempts;
      if ('refusal' in outcome && (outcome.refusal.status !== 503 || last)) throw outcome.refusal;
      if ('lost' in outcome && last) {
        throw new UnavailableError(`${method} ${path}: no answer from ${this.apiBase} after ${attempt} attempt${attempt === 1 ? '' : 's'} (${outcome.lost})`, { attempts: attempt });
      }
      await sleep(Math.random() * Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempt - 1)), signal);
    }
  }

  private notTheApi(status: number, attempts: number): SibylError {
    return new ServerError(`${this.apiBase} answered HTTP ${status} with something that is not JSON: is it a Sibyl server?`, { status, attempts });
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
