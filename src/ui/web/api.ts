// The REST API from the page: JSON calls, and a study's Server-Sent Events read with fetch,
// reconnecting with backoff. With a token on the server, the page signs in once: the server
// answers with an HttpOnly session cookie that the browser sends with every call, so the token
// is kept nowhere a script can read it.
import type { Observation, StudyEvent } from './types.js';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field: string | null = null) {
    super(message);
  }
}

let onUnauthorized: (() => void) | undefined;
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

function headers(json: boolean): Record<string, string> {
  return json ? { accept: 'application/json', 'content-type': 'application/json' } : { accept: 'application/json' };
}

/** Whether the server wants a token, and whether this browser's session carries it. */
export function session(): Promise<{ required: boolean; signedIn: boolean }> {
  return api('GET', '/session');
}

/** Trades the token for the session cookie (refused with 401 when it is not the server's). */
export async function signIn(token: string): Promise<void> {
  await api('POST', '/session', { token });
}

export async function signOut(): Promise<void> {
  await api('DELETE', '/session');
}

export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: headers(body !== undefined),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { message?: string; field?: string | null } } | undefined)?.error;
    if (res.status === 401) onUnauthorized?.();
    throw new ApiError(res.status, err?.message ?? `${res.status} ${res.statusText}`, err?.field ?? null);
  }
  return parsed as T;
}

/** Every page of a paged list (studies or trials), pageSize 1000. */
export async function listAll<T>(path: string, key: string, signal?: AbortSignal): Promise<T[]> {
  const out: T[] = [];
  let token = '';
  const sep = path.includes('?') ? '&' : '?';
  do {
    const page = await api<Record<string, unknown>>('GET', `${path}${sep}pageSize=1000${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`, undefined, signal);
    out.push(...((page[key] as T[] | undefined) ?? []));
    token = (page.nextPageToken as string | undefined) ?? '';
  } while (token);
  return out;
}

/** The most observations of one trial a chart fetches and draws: a trial may have millions. */
export const MAX_CHART_OBSERVATIONS = 50_000;

/** A trial's observations for a chart: the first MAX_CHART_OBSERVATIONS, and whether they are all of them. */
export async function chartObservations(trial: string, signal?: AbortSignal): Promise<{ observations: Observation[]; complete: boolean }> {
  const out: Observation[] = [];
  let token = '';
  do {
    const page = await api<{ observations: Observation[]; nextPageToken: string }>('GET', `/trials/${encodeURIComponent(trial)}/observations${token ? `?pageToken=${encodeURIComponent(token)}` : ''}`, undefined, signal);
    for (const o of page.observations) out.push(o);
    token = page.nextPageToken;
  } while (token && out.length < MAX_CHART_OBSERVATIONS);
  return { observations: out, complete: !token };
}

/**
 * Every trial of a study. Trials are numbered 1, 2, … (seq), so the pages of a study whose size
 * is known are fetched side by side (`afterId` = 0, 1000, 2000, …; four at a time, leaving the
 * browser's other connections to the event stream), then the last page is followed to the end.
 */
export async function listStudyTrials<T extends { name: string }>(study: string, expected: number, signal?: AbortSignal): Promise<T[]> {
  const size = 1000;
  const base = `/studies/${encodeURIComponent(study)}/trials?pageSize=${size}`;
  const starts = Array.from({ length: Math.max(1, Math.ceil(expected / size)) }, (_, i) => i * size);
  const pages: { trials: T[]; nextPageToken?: string }[] = new Array(starts.length);
  let next = 0;
  const worker = async () => {
    while (next < starts.length) {
      const i = next++;
      pages[i] = await api<{ trials: T[]; nextPageToken?: string }>('GET', `${base}&afterId=${starts[i]}`, undefined, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, starts.length) }, worker));
  const byName = new Map<string, T>();
  for (const p of pages) for (const t of p.trials) byName.set(t.name, t);
  let token = pages.at(-1)?.nextPageToken ?? '';
  while (token) {
    const page = await api<{ trials: T[]; nextPageToken?: string }>('GET', `${base}&pageToken=${encodeURIComponent(token)}`, undefined, signal);
    for (const t of page.trials) byName.set(t.name, t);
    token = page.nextPageToken ?? '';
  }
  return [...byName.values()];
}

/**
 * Follows a study's event stream until the signal aborts. `onOpen` runs at each (re)connection,
 * before the events of that connection, so the caller can resynchronise after a gap.
 */
export function followStudy(name: string, onEvent: (e: StudyEvent) => void, signal: AbortSignal, onOpen?: () => void): void {
  let delay = 1000;
  const run = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const res = await fetch(`/api/v1/studies/${encodeURIComponent(name)}/events`, { credentials: 'same-origin', headers: headers(false), signal });
        if (res.status === 401) onUnauthorized?.();
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        delay = 1000;
        onOpen?.();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let type = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data += line.slice(5).trim();
            }
            if (!data) continue;
            try {
              const payload = JSON.parse(data) as unknown;
              if (type === 'study') onEvent({ type: 'study', study: payload as never });
              else if (type === 'trial') onEvent({ type: 'trial', trial: payload as never });
            } catch {
              // a malformed event is skipped
            }
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  };
  void run();
}
