// The CLI's view of a running `sibyl serve`, through its REST API.
import type { StudyShape, TrialShape } from '../service/shapes.js';
import { UsageError } from './args.js';

const isLoopbackHost = (h: string) => h === 'localhost' || h === '[::1]' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);

export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class RemoteClient {
  private readonly base: string;

  constructor(server: string, private readonly token = process.env['SIBYL_TOKEN']) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new UsageError(`--server must be a URL such as http://127.0.0.1:8080 (got ${JSON.stringify(server)})`);
    }
    this.base = `${url.origin}/api/v1`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new RemoteError(0, `cannot reach ${this.base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new RemoteError(res.status, `${this.base} answered HTTP ${res.status} with something that is not JSON: is it a Sibyl server?`);
    }
    if (!res.ok) {
      const e = (json as { error?: { message?: string; field?: string | null } } | undefined)?.error;
      throw new RemoteError(res.status, e ? `${e.field ? `${e.field}: ` : ''}${e.message}` : `HTTP ${res.status}`);
    }
    return json as T;
  }

  /** Every item of a paged list, following the page tokens. */
  private async all<T>(path: string, key: string): Promise<T[]> {
    const items: T[] = [];
    let token = '';
    do {
      const page = await this.call<Record<string, unknown> & { nextPageToken: string }>('GET', `${path}?pageSize=1000${token ? `&pageToken=${token}` : ''}`);
      items.push(...(page[key] as T[]));
      token = page.nextPageToken;
    } while (token);
    return items;
  }

  listStudies(): Promise<StudyShape[]> {
    return this.all('/studies', 'studies');
  }

  getStudy(name: string): Promise<StudyShape> {
    return this.call('GET', `/studies/${encodeURIComponent(name)}`);
  }

  listTrials(name: string): Promise<TrialShape[]> {
    return this.all(`/studies/${encodeURIComponent(name)}/trials`, 'trials');
  }

  getTrial(name: string): Promise<TrialShape> {
    return this.call('GET', `/trials/${encodeURIComponent(name)}`);
  }

  /** `workingDir`: where a local study's commands run on the server (the study file's folder, when the server is this machine). */
  createStudy(specText: string, options: { runtime?: string; workingDir?: string } = {}): Promise<StudyShape> {
    return this.call('POST', '/studies', { specText, ...options });
  }

  /** Whether the server runs on this machine (a loopback address), so that it sees this machine's folders. */
  get isLocal(): boolean {
    return isLoopbackHost(new URL(this.base).hostname);
  }
}
