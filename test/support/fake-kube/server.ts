// An in-process fake Kubernetes API server for the fast test tier. It speaks the HTTP surface
// that @kubernetes/client-node uses (k8s.md §3.4): Status error bodies, string resourceVersions
// from one global counter, lists and chunked watches with label selectors, a bounded event
// history (older resourceVersions get 410 Expired), status subresources, merge/json patches
// (a resourceVersion in a patch is a precondition; finalizers are kept), deletion with owner
// propagation and pod logs. It also plays the training operator and the
// kubelet (see operator.ts): TFJobs and batch Jobs get pods whose primary container runs as a
// local child process. Faults can be injected per request (500, 409, hang, a late answer), and watches and
// log streams can be cut on demand or their events delivered late.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Operator, type OperatorOptions } from './operator.js';
import { parseLabelSelector, type LabelTest } from './selectors.js';

export type Obj = Record<string, any>;
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** The parsed JSON body of a POST/PUT/PATCH. */
  readonly body?: Obj;
  /** When it arrived (ms since the epoch). */
  readonly time: number;
}

/** Makes the next `count` requests matching `method` and `path` fail. */
export interface FaultRule {
  method?: string;
  /** Matched against the URL path (without the query); a string matches as a substring. */
  path?: RegExp | string;
  /** Only requests whose query string contains this (e.g. 'watch=true'). */
  query?: string;
  count: number;
  /** The status to answer (500 by default); ignored with `hang`. */
  status?: number;
  reason?: string;
  /** The Status's message and details (default: `injected <status>`, none). */
  message?: string;
  details?: Obj;
  /** Never answer: the client has to time out. */
  hang?: boolean;
  /** Apply the request first, then fail it (a lost response: the write happened). */
  applyFirst?: boolean;
  /** Only requests whose JSON body this accepts. */
  body?: (body: Obj | undefined) => boolean;
  /** Apply the request and answer it normally, but only after this many ms (a slow answer: other writes can land first); `status` is ignored. */
  holdMs?: number;
}

interface Watcher {
  readonly collection: string;
  readonly matches: (o: Obj) => boolean;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
}

interface Route {
  readonly group: string;
  readonly version: string;
  readonly namespace: string;
  readonly plural: string;
  readonly name?: string;
  readonly sub?: string;
  readonly collection: string;
}

interface Result {
  readonly status: number;
  readonly body: unknown;
}

export interface FakeKubeOptions extends OperatorOptions {
  /** Events kept for watch resumption; a watch from an older resourceVersion gets 410. */
  readonly historyLimit?: number;
  /** How often open watches that asked for them get a BOOKMARK (0: never). */
  readonly bookmarkMs?: number;
}

const CORE_KINDS: Record<string, string> = { pods: 'Pod', services: 'Service', events: 'Event', configmaps: 'ConfigMap' };

export class FakeKube {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly collections = new Map<string, Map<string, Obj>>();
  private readonly kinds = new Map<string, { kind: string; apiVersion: string }>();
  private readonly history: { rv: number; collection: string; type: EventType; object: Obj }[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly faults: FaultRule[] = [];
  private readonly historyLimit: number;
  private bookmarkTimer?: NodeJS.Timeout;
  private rv = 100;
  /** Events after this resourceVersion are all in `history`. */
  private compactedRv = 100;
  readonly requests: RequestRecord[] = [];
  readonly operator: Operator;
  url = '';
  /** Watch events of writes reach the watchers this many ms after the write is answered, still in order (a busy API server's watch cache). */
  watchLagMs = 0;
  /** Lagging watch events not delivered yet, and when the last one was. */
  laggingEvents = 0;
  lastLaggedDelivery = 0;

  constructor(private readonly options: FakeKubeOptions = {}) {
    this.historyLimit = options.historyLimit ?? 1000;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.operator = new Operator(this, options);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const every = this.options.bookmarkMs ?? 2000;
    if (every > 0) this.bookmarkTimer = setInterval(() => this.sendBookmarks(), every).unref();
    return this.url;
  }

  async close(): Promise<void> {
    clearInterval(this.bookmarkTimer);
    this.operator.killAll();
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ── test controls ─────────────────────────────────────────────────────────

  inject(rule: FaultRule): void {
    this.faults.push({ ...rule });
  }

  /** Every open watch gets a 410 Expired ERROR event and is closed; the history is dropped, so
   *  resuming from any resourceVersion seen so far is refused with 410 too. */
  expireWatches(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
    for (const w of [...this.watchers]) {
      this.writeEvent(w.res, 'ERROR', status(410, 'Expired', `too old resource version: ${this.rv - 1} (${this.rv})`));
      this.endWatch(w);
    }
  }

  /** Closes every open watch cleanly (as an apiserver restart or timeoutSeconds would). */
  dropWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  /** Injected faults not used up yet. */
  get pendingFaults(): number {
    return this.faults.reduce((n, f) => n + f.count, 0);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /** Requests whose method and path match, e.g. creates of one trial. */
  count(method: string, path: RegExp | string): number {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path.includes(path) : path.test(r.path))).length;
  }

  /** Successful creates per object name in a collection path (POST answered 201 or applied). */
  readonly created = new Map<string, number>();

  // ── storage (also used by the operator) ────────────────────────────────────

  collectionKey(group: string, version: string, namespace: string, plural: string): string {
    return `${group}|${version}|${namespace}|${plural}`;
  }

  list(collection: string): Obj[] {
    return [...(this.collections.get(collection)?.values() ?? [])];
  }

  get(collection: string, name: string): Obj | undefined {
    return this.collections.get(collection)?.get(name);
  }

  all(plural: string): Obj[] {
    const out: Obj[] = [];
    for (const [key, objs] of this.collections) if (key.endsWith(`|${plural}`)) out.push(...objs.values());
    return out;
  }

  /** Stores a new object as the server would on create (uid, resourceVersion, timestamps). */
  insert(collection: string, obj: Obj): Obj {
    const meta = (obj['metadata'] ??= {});
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    meta.generation = 1;
    return this.write(collection, obj, 'ADDED');
  }

  /** Writes an object (a new resourceVersion) and tells the watchers. */
  write(collection: string, obj: Obj, type: EventType): Obj {
    const name = obj['metadata'].name as string;
    obj['metadata'].resourceVersion = String(++this.rv);
    let objs = this.collections.get(collection);
    if (!objs) this.collections.set(collection, (objs = new Map()));
    if (type === 'DELETED') objs.delete(name);
    else objs.set(name, obj);
    const snapshot = structuredClone(obj);
    this.history.push({ rv: this.rv, collection, type, object: snapshot });
    while (this.history.length > this.historyLimit) this.compactedRv = this.history.shift()!.rv;
    for (const w of this.watchers) {
      if (w.collection !== collection || !w.matches(snapshot)) continue;
      // Timers of equal delay fire in the order they were set, so lagging events stay in order.
      if (this.watchLagMs > 0) {
        this.laggingEvents += 1;
        setTimeout(() => {
          this.laggingEvents -= 1;
          this.lastLaggedDelivery = Date.now();
          this.writeEvent(w.res, type, snapshot);
        }, this.watchLagMs);
      }
      else this.writeEvent(w.res, type, snapshot);
    }
    if (type !== 'DELETED') this.operator.changed(collection, snapshot);
    return snapshot;
  }

  /** Deletes an object and, unless orphaned, everything it owns (a fake garbage collector). */
  remove(collection: string, name: string, propagation = 'Background'): Obj | undefined {
    const obj = this.get(collection, name);
    if (!obj) return undefined;
    obj['metadata'].deletionTimestamp = new Date().toISOString();
    this.write(collection, obj, 'DELETED');
    this.operator.deleted(collection, obj);
    if (propagation !== 'Orphan') {
      const uid = obj['metadata'].uid;
      for (const [key, objs] of this.collections) {
        for (const child of [...objs.values()]) {
          if ((child['metadata'].ownerReferences ?? []).some((r: Obj) => r['uid'] === uid)) this.remove(key, child['metadata'].name, propagation);
        }
      }
    }
    return obj;
  }

  // ── HTTP ───────────────────────────────────────────────────────────────────

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    let body: Obj | undefined;
    try {
      body = text ? (JSON.parse(text) as Obj) : undefined;
    } catch {
      return send(res, status(400, 'BadRequest', 'the body is not JSON'));
    }
    this.requests.push({ method, path: url.pathname, query: url.searchParams, time: Date.now(), ...(body ? { body } : {}) });
    const route = parseRoute(url.pathname);
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return void res.end('404 page not found');
    }

    const fault = this.takeFault(method, url, body);
    if (fault && !fault.applyFirst && fault.holdMs === undefined) return this.fail(res, fault);

    if (method === 'GET' && url.searchParams.get('watch') === 'true' && !route.name) {
      if (fault) return this.fail(res, fault);
      return this.watch(route, url.searchParams, res);
    }
    if (method === 'GET' && route.sub === 'log' && route.plural === 'pods') {
      if (fault) return this.fail(res, fault);
      return this.operator.serveLog(route.namespace, route.name!, url.searchParams, res);
    }
    const result = this.apply(method, route, url.searchParams, body, req.headers['content-type'] ?? '');
    if (fault?.holdMs !== undefined) await new Promise((r) => setTimeout(r, fault.holdMs));
    else if (fault) return this.fail(res, fault);
    send(res, result.body, result.status);
  }

  private takeFault(method: string, url: URL, body: Obj | undefined): FaultRule | undefined {
    const i = this.faults.findIndex(
      (f) =>
        f.count > 0 &&
        (f.body === undefined || f.body(body)) &&
        (f.method === undefined || f.method === method) &&
        (f.path === undefined || (typeof f.path === 'string' ? url.pathname.includes(f.path) : f.path.test(url.pathname))) &&
        (f.query === undefined || url.search.includes(f.query)),
    );
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (--f.count === 0) this.faults.splice(i, 1);
    return f;
  }

  private fail(res: ServerResponse, f: FaultRule): void {
    if (f.hang) return; // the socket stays open until the client gives up or close()
    const code = f.status ?? 500;
    send(res, status(code, f.reason ?? (code === 409 ? 'AlreadyExists' : 'InternalError'), f.message ?? `injected ${code}`, f.details), code);
  }

  private apply(method: string, route: Route, query: URLSearchParams, body: Obj | undefined, contentType: string): Result {
    const { collection, name } = route;
    const what = `${route.plural}${route.group ? `.${route.group}` : ''}`;
    const details = { name, group: route.group || undefined, kind: route.plural };
    const notFound = () => ({ status: 404, body: status(404, 'NotFound', `${what} "${name}" not found`, details) });
    const hasStatus = route.plural !== 'pods' || route.sub === 'status';

    if (!name) {
      if (method === 'GET') {
        const matches = selectorOf(query);
        const items = this.list(collection).filter(matches).map((o) => structuredClone(o));
        const kind = this.kindOf(route);
        return { status: 200, body: { apiVersion: kind.apiVersion, kind: `${kind.kind}List`, metadata: { resourceVersion: String(this.rv), continue: '' }, items } };
      }
      if (method === 'POST') {
        if (!body?.['metadata']?.name) return { status: 422, body: status(422, 'Invalid', 'metadata.name: Required value') };
        const objName = body['metadata'].name as string;
        if (this.get(collection, objName)) {
          return { status: 409, body: status(409, 'AlreadyExists', `${what} "${objName}" already exists`, { ...details, name: objName }) };
        }
        if (query.get('dryRun') === 'All') return { status: 201, body };
        const obj = structuredClone(body);
        obj['metadata'].namespace = route.namespace;
        if (hasStatus && route.plural !== 'pods') delete obj['status'];
        this.kinds.set(`${route.group}|${route.plural}`, { kind: obj['kind'], apiVersion: obj['apiVersion'] });
        this.created.set(objName, (this.created.get(objName) ?? 0) + 1);
        return { status: 201, body: this.insert(collection, obj) };
      }
      return { status: 405, body: status(405, 'MethodNotAllowed', `${method} is not allowed`) };
    }

    const current = this.get(collection, name);
    if (method === 'GET') return current ? { status: 200, body: current } : notFound();
    if (method === 'DELETE') {
      if (!current) return notFound();
      const removed = this.remove(collection, name, query.get('propagationPolicy') ?? 'Background')!;
      if (route.plural === 'pods') return { status: 200, body: removed };
      return { status: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...details, uid: removed['metadata'].uid } } };
    }
    if (!current) return notFound();
    let next: Obj;
    if (method === 'PUT') {
      if (!body) return { status: 400, body: status(400, 'BadRequest', 'no body') };
      const rv = body['metadata']?.resourceVersion;
      if (rv !== undefined && rv !== current['metadata'].resourceVersion) {
        return {
          status: 409,
          body: status(409, 'Conflict', `Operation cannot be fulfilled on ${what} "${name}": the object has been modified; please apply your changes to the latest version and try again`, details),
        };
      }
      next = structuredClone(body);
    } else if (method === 'PATCH') {
      // A resourceVersion in a patch is a precondition, as on the API server.
      const expected = (body as Obj | undefined)?.['metadata']?.resourceVersion;
      if (typeof expected === 'string' && expected !== current['metadata'].resourceVersion) {
        return { status: 409, body: status(409, 'Conflict', `Operation cannot be fulfilled on ${what} "${name}": the object has been modified; please apply your changes to the latest version and try again`, details) };
      }
      if (contentType.startsWith('application/merge-patch+json')) next = mergePatch(structuredClone(current), body ?? {}) as Obj;
      else if (contentType.startsWith('application/json-patch+json') && Array.isArray(body)) next = jsonPatch(structuredClone(current), body);
      else return { status: 415, body: status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`) };
    } else {
      return { status: 405, body: status(405, 'MethodNotAllowed', `${method} is not allowed`) };
    }
    // The status subresource writes only .status; the main resource ignores .status.
    const merged = structuredClone(current);
    if (route.sub === 'status') merged['status'] = next['status'];
    else {
      if (JSON.stringify(next['spec']) !== JSON.stringify(current['spec'])) merged['metadata'].generation = (current['metadata'].generation ?? 1) + 1;
      merged['spec'] = next['spec'];
      merged['metadata'].labels = next['metadata']?.labels;
      merged['metadata'].annotations = next['metadata']?.annotations;
      merged['metadata'].finalizers = next['metadata']?.finalizers;
      if (!hasStatus) merged['status'] = next['status'];
    }
    return { status: 200, body: this.write(collection, merged, 'MODIFIED') };
  }

  private kindOf(route: Route): { kind: string; apiVersion: string } {
    const known = this.kinds.get(`${route.group}|${route.plural}`);
    if (known) return known;
    const apiVersion = route.group ? `${route.group}/${route.version}` : route.version;
    return { kind: CORE_KINDS[route.plural] ?? route.plural, apiVersion };
  }

  private watch(route: Route, query: URLSearchParams, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const matches = selectorOf(query);
    const rvParam = query.get('resourceVersion');
    if (rvParam && rvParam !== '0') {
      const from = Number(rvParam);
      if (!Number.isFinite(from) || from < this.compactedRv) {
        this.writeEvent(res, 'ERROR', status(410, 'Expired', `too old resource version: ${rvParam} (${this.compactedRv + 1})`));
        return void res.end();
      }
      for (const e of this.history) if (e.rv > from && e.collection === route.collection && matches(e.object)) this.writeEvent(res, e.type, e.object);
    } else {
      for (const o of this.list(route.collection)) if (matches(o)) this.writeEvent(res, 'ADDED', o);
    }
    const watcher: Watcher = { collection: route.collection, matches, res, bookmarks: query.get('allowWatchBookmarks') === 'true' };
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
    const timeout = Number(query.get('timeoutSeconds') ?? 0);
    if (timeout > 0) setTimeout(() => this.endWatch(watcher), timeout * 1000).unref();
  }

  private endWatch(w: Watcher): void {
    this.watchers.delete(w);
    w.res.end();
  }

  private writeEvent(res: ServerResponse, type: string, object: Obj): void {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private sendBookmarks(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const [group, version, , plural] = w.collection.split('|');
      const kind = this.kindOf({ group: group!, version: version!, namespace: '', plural: plural!, collection: w.collection });
      this.writeEvent(w.res, 'BOOKMARK', { kind: kind.kind, apiVersion: kind.apiVersion, metadata: { resourceVersion: String(this.rv) } });
    }
  }
}

export function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function send(res: ServerResponse, body: unknown, code = (body as Obj)['code'] ?? 200): void {
  if (res.headersSent) return void res.end();
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function parseRoute(path: string): Route | undefined {
  const seg = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string, version: string, rest: string[];
  if (seg[0] === 'api' && seg[1] === 'v1') [group, version, rest] = ['', 'v1', seg.slice(2)];
  else if (seg[0] === 'apis' && seg.length >= 3) [group, version, rest] = [seg[1]!, seg[2]!, seg.slice(3)];
  else return undefined;
  if (rest[0] !== 'namespaces' || rest.length < 3 || rest.length > 5) return undefined;
  const [, namespace, plural, name, sub] = rest as [string, string, string, string?, string?];
  return { group, version, namespace, plural, ...(name ? { name } : {}), ...(sub ? { sub } : {}), collection: `${group}|${version}|${namespace}|${plural}` };
}

function selectorOf(query: URLSearchParams): (o: Obj) => boolean {
  const labels: LabelTest = parseLabelSelector(query.get('labelSelector'));
  const fields = (query.get('fieldSelector') ?? '').split(',').filter((s) => s !== '').map((t) => t.split('=') as [string, string]);
  return (o) =>
    labels(o['metadata']?.labels ?? {}) &&
    fields.every(([k, v]) => (k === 'metadata.name' ? o['metadata']?.name === v : k === 'metadata.namespace' ? o['metadata']?.namespace === v : true));
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Obj = typeof target === 'object' && target !== null && !Array.isArray(target) ? (target as Obj) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function jsonPatch(target: Obj, ops: Obj[]): Obj {
  for (const op of ops) {
    const path = String(op['path']).split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = path.pop()!;
    let parent: any = target;
    for (const p of path) parent = parent[p] ??= {};
    if (op['op'] === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op['op'] === 'add' && Array.isArray(parent)) {
      if (last === '-') parent.push(op['value']);
      else parent.splice(Number(last), 0, op['value']);
    } else parent[last] = op['value'];
  }
  return target;
}
