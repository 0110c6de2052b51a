#!/usr/bin/env node
// The `sibyl` command. Exit codes: 0 success, 1 the study failed, 2 invalid spec or usage.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SpecError } from '../spec/errors.js';
import { DataDirBusyError, lockDataDir } from '../store/lock.js';
import { type Store, RUNTIME_KINDS, type RuntimeKind } from '../store/store.js';
import { paretoShape, studyShape, trialShape, type StudyShape, type TrialShape } from '../service/shapes.js';
import { parseArgs, stringFlag, UsageError, type ParsedArgs } from './args.js';
import { SibylError, type SibylClient } from '../client/index.js';
import { connect, servesThisMachine } from './remote.js';
import { bestText, importanceTable, paretoText, studiesTable, trialsTable } from './report.js';
import { parseDocument } from 'yaml';
import { MAX_YAML_NESTING, yamlNesting } from '../spec/yaml-depth.js';
import { parameterImportance, type ImportanceResult } from '../analysis/importance.js';
import { readStudyText, runStudy } from './run.js';
import { isPostgresUrl, redactUrl } from '../store/url.js';
import { readCheckpointVolume, type CheckpointVolume } from '../runtimes/kubernetes/checkpoint-volume.js';
import { isNamespaceName } from '../spec/kube-names.js';

const USAGE = `Usage: sibyl <command> [options]

Commands:
  run <study.yaml>       run a study to its end (resumes an unfinished study of the same name)
  serve                  run the service: gRPC (Sibyl's and Katib's APIs) and REST + docs
  submit <study.yaml>    create a study on a running server (needs --server)
  studies                list the studies
  trials <study>         list a study's trials
  best <study>           show a study's best trial (a multi-objective study: its Pareto front)
  importance <study>     how much each parameter moves the objective (fANOVA on a random forest), sorted
  enqueue <study> name=value …
                         queue an assignment to run before any algorithm suggestion (needs --server);
                         --file <f.yaml|json> queues a list of assignments (objects of name: value)
  migrate-store          copy a SQLite store into an empty PostgreSQL database, checked row by row:
                         --from <data dir> --to postgres://user@host/db

Options:
  --data-dir <dir>       where the store and trial logs live (default $SIBYL_DATA_DIR or ./.sibyl)
  --store <url>          $SIBYL_STORE: keep the store on PostgreSQL (postgres://user@host/db) instead of
                         SQLite in the data directory (trial logs stay in the data directory)
  --server <url>         talk to a running server (studies, trials, best, submit), e.g. http://127.0.0.1:8080
  --runtime <kind>       run/serve: where trials run, local (processes, default) or kubernetes
  --kubeconfig <file>    kubernetes: default $KUBECONFIG, ~/.kube/config, or in-cluster
  --json                 machine-readable output (studies, trials, best)
  --help                 this text

run options:
  --push-port <n>        serve the metrics push intake (POST /api/v1/trials/<name>/observations) on
                         this port, its URL given to trials as SIBYL_PUSH_ENDPOINT; on by default
                         with --runtime kubernetes (0, a free port)
  --push-host <addr>     the push intake's address (default 127.0.0.1)
  --push-url <url>       the URL trials are given instead of http://<push host>:<port>
  --pending-timeout <s>  kubernetes: fail a trial whose pods stay Pending this long (default 300)
  --kube-checkpoint-claim <pvc>, --kube-checkpoint-dir <dir>
                         kubernetes: studies with suggestion_trial_dir (pbt) keep each trial's
                         checkpoint folder <study>/<trial> on this PersistentVolumeClaim (in the
                         study's namespace), which this process sees at <dir>

serve options (flags first, then environment):
  --host <addr>          $SIBYL_HOST, default 127.0.0.1 (any other address needs a token)
  --grpc-port <n>        $SIBYL_GRPC_PORT, default 6789 (0 picks a free port)
  --http-port <n>        $SIBYL_HTTP_PORT, default 8080 (0 picks a free port)
  --runtime <kind>       $SIBYL_RUNTIME, default local: runtime of studies created without one
                         (local, kubernetes or external; the server launches with local or kubernetes)
  --token <secret>       $SIBYL_TOKEN: every call but health needs "Authorization: Bearer <secret>"
  --allowed-hosts <list> $SIBYL_ALLOWED_HOSTS: Host names the HTTP server answers, comma-separated
                         (default: localhost, 127.0.0.1, ::1 and the --host address; *.example.com
                         for subdomains, * for any)
  --tls-cert <file>      $SIBYL_TLS_CERT, with --tls-key / $SIBYL_TLS_KEY: HTTPS and gRPC over TLS (PEM)
  --algorithm-timeout <s> $SIBYL_ALGORITHM_TIMEOUT: time limit of one suggestion, seconds (default 60)
  --push-url <url>       $SIBYL_PUSH_URL: where trials push metrics (SIBYL_PUSH_ENDPOINT, with a
                         credential of their own); default in a pod: http://$POD_IP:<http port>
  --pending-timeout <s>  $SIBYL_PENDING_TIMEOUT: kubernetes: fail a trial whose pods stay Pending this long
  --kube-checkpoint-claim <pvc>, --kube-checkpoint-dir <dir>
                         $SIBYL_KUBE_CHECKPOINT_CLAIM, $SIBYL_KUBE_CHECKPOINT_DIR: as for run
  --katib-data-dir <dir> $SIBYL_KATIB_DATA_DIR: Katib's suggestion volume (/opt/katib/data in a Katib
                         suggestion pod): pbt trials Katib asks for get their checkpoint folders there
  --katib-trial-namespace <ns> $SIBYL_KATIB_TRIAL_NAMESPACE: as Katib's early-stopping service, mark
                         Katib's Trials in <ns> EarlyStopped when their collector stops them (as
                         Katib's medianstop does; needs RBAC to patch trials/status)
  --katib-db-managers <list> $SIBYL_KATIB_DB_MANAGERS: the DB managers (host:port, comma-separated)
                         GetEarlyStoppingRules may read trial logs from when it names one in
                         db_manager_address (default katib-db-manager.kubeflow:6789, Katib's)
  --leader-elect         $SIBYL_LEADER_ELECTION=true: only the holder of the Lease $SIBYL_LEASE_NAME
                         (default sibyl-leader) in $SIBYL_NAMESPACE (default $POD_NAMESPACE or the
                         pod's namespace) schedules and launches; exits 1 when it loses the Lease.
                         Without it, replicas on one --store postgres://… elect their leader with
                         an advisory lock on that database (same rules: the others serve the API)
  --watch-experiments <namespaces>
                         $SIBYL_EXPERIMENT_NAMESPACES: kubernetes: be the controller of Experiment
                         objects in these namespaces (comma-separated): kubectl apply creates the study
  --experiment-group <g> $SIBYL_EXPERIMENT_GROUP: kubeflow.org (default; left alone where Katib runs)
                         or sibyl.dev (Sibyl's own Experiment kind, beside Katib)
`;

const BOOLEAN_FLAGS = ['json', 'help', 'leader-elect'];
const VALUE_FLAGS = [
  'data-dir', 'store', 'server', 'host', 'grpc-port', 'http-port', 'runtime', 'token', 'kubeconfig', 'push-port', 'push-host', 'push-url',
  'allowed-hosts', 'tls-cert', 'tls-key', 'algorithm-timeout', 'pending-timeout', 'kube-checkpoint-claim', 'kube-checkpoint-dir', 'katib-data-dir', 'katib-trial-namespace', 'katib-db-managers',
  'watch-experiments', 'experiment-group', 'from', 'to', 'file',
];

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, BOOLEAN_FLAGS, VALUE_FLAGS);
  const [command, ...rest] = args.positionals;
  if (args.flags.has('help') || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!command) throw new UsageError('no command given');
  const dataDir = resolve(stringFlag(args, 'data-dir') ?? process.env['SIBYL_DATA_DIR'] ?? '.sibyl');
  const storeUrl = storeFlag(stringFlag(args, 'store') ?? process.env['SIBYL_STORE']);
  const server = stringFlag(args, 'server');

  switch (command) {
    case 'run': {
      const file = single(rest, 'run <study.yaml>');
      const runtime = stringFlag(args, 'runtime') ?? process.env['SIBYL_RUNTIME'] ?? 'local';
      if (runtime !== 'local' && runtime !== 'kubernetes') throw new UsageError(`run --runtime must be local or kubernetes (got ${JSON.stringify(runtime)})`);
      const kubeconfig = stringFlag(args, 'kubeconfig');
      const [pushPort, pushHost, pushUrl] = [stringFlag(args, 'push-port'), stringFlag(args, 'push-host'), stringFlag(args, 'push-url')];
      const pendingTimeoutMs = seconds(stringFlag(args, 'pending-timeout') ?? process.env['SIBYL_PENDING_TIMEOUT'], 'pending-timeout');
      if (pushPort !== undefined && (!/^\d{1,5}$/.test(pushPort) || Number(pushPort) > 65535)) throw new UsageError(`--push-port must be a port number from 0 to 65535 (got ${JSON.stringify(pushPort)})`);
      const checkpointVolume = checkpointVolumeConfig(runtime, (flag, envName) => stringFlag(args, flag) ?? process.env[envName]);
      return withStore(dataDir, async (store) => runStudy({
        file, dataDir, store, out: process.stdout, err: process.stderr, runtime, ...(kubeconfig ? { kubeconfig } : {}),
        ...(pushPort !== undefined ? { pushPort: Number(pushPort) } : {}), ...(pushHost ? { pushHost } : {}), ...(pushUrl ? { pushUrl } : {}),
        ...(pendingTimeoutMs !== undefined ? { pendingTimeoutMs } : {}),
        ...(checkpointVolume ? { checkpointVolume } : {}),
      }), { exclusive: true, storeUrl });
    }
    case 'serve':
      none(rest, 'serve');
      return serve(args, dataDir, storeUrl);
    case 'submit': {
      const file = single(rest, 'submit <study.yaml> --server <url>');
      if (!server) throw new UsageError('submit needs --server <url>');
      const client = connect(server);
      const runtime = stringFlag(args, 'runtime');
      // A server on this machine runs a local study's commands from the study file's folder, as `sibyl run` does.
      const { data: study } = await client.createStudy(readStudyText(file), {
        ...(runtime ? { runtime: runtime as RuntimeKind } : {}), // the server checks it
        ...(servesThisMachine(client) ? { workingDir: dirname(resolve(file)) } : {}),
      });
      print(args, study, () => `Study ${study.name} ${study.state} on ${server}`);
      return 0;
    }
    case 'studies':
    case 'trials':
    case 'best': {
      const name = command === 'studies' ? (none(rest, 'studies'), '') : single(rest, `${command} <study>`);
      const source = server ? remoteSource(connect(server)) : undefined;
      if (source) return query(command, name, args, source);
      return withStore(dataDir, (store) => query(command, name, args, localSource(store, storeUrl ? 'the store' : dataDir)), { storeUrl });
    }
    case 'importance': {
      const name = single(rest, 'importance <study>');
      if (server) return showImportance(args, await connect(server).importance(name));
      return withStore(dataDir, async (store) => {
        const study = await store.getStudyByName(name);
        if (!study) throw new UsageError(`no study named "${name}" in ${storeUrl ? 'the store' : dataDir}`);
        return showImportance(args, parameterImportance({ parameters: study.spec.parameters, trials: await store.trialViews(study.id), seed: study.seed }));
      }, { storeUrl });
    }
    case 'enqueue': {
      const [name, ...pairs] = rest;
      if (!name) throw new UsageError('enqueue <study> name=value … | --file <assignments.yaml>');
      if (!server) throw new UsageError('enqueue needs --server <url> (the server runs the queue)');
      const file = stringFlag(args, 'file');
      const assignments = readAssignments(pairs, file);
      const queue = await connect(server).enqueue(name, assignments);
      print(args, queue, () => `${assignments.length} assignment${assignments.length === 1 ? '' : 's'} queued in ${name} (${queue.length} waiting)`);
      return 0;
    }
    case 'migrate-store': {
      none(rest, 'migrate-store --from <data dir> --to postgres://…');
      const { migrateStoreCommand } = await import('./migrate-store.js');
      return migrateStoreCommand(args, process.stdout, process.stderr);
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function showImportance(args: ParsedArgs, result: ImportanceResult): number {
  print(args, result, () => importanceTable(result));
  return 0;
}

/** `name=value` pairs (one assignment) or a file holding a list of assignments; values as text, which the server reads by each parameter's type. */
function readAssignments(pairs: readonly string[], file: string | undefined): Record<string, string | number>[] {
  if (file !== undefined) {
    if (pairs.length > 0) throw new UsageError('enqueue: give name=value pairs or --file, not both');
    const text = readFileSync(file, 'utf8');
    if (yamlNesting(text) > MAX_YAML_NESTING) throw new UsageError(`${file}: nested too deeply (at most ${MAX_YAML_NESTING} levels)`);
    const doc = parseDocument(text).toJS() as unknown;
    const list = Array.isArray(doc) ? doc : [doc];
    return list.map((a, i) => {
      if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new UsageError(`${file}: item ${i} must be an object of parameter name: value`);
      return a as Record<string, string | number>;
    });
  }
  if (pairs.length === 0) throw new UsageError('enqueue: give name=value pairs or --file <assignments.yaml>');
  const assignment: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`enqueue: expected name=value (got ${JSON.stringify(pair)})`);
    const key = pair.slice(0, at);
    if (Object.hasOwn(assignment, key)) throw new UsageError(`enqueue: ${key} is given twice`);
    assignment[key] = pair.slice(at + 1);
  }
  return [assignment];
}

/** Where the read commands get their data: the local store or a server. */
interface Source {
  studies(): Promise<StudyShape[]>;
  study(name: string): Promise<StudyShape>;
  trials(name: string): Promise<TrialShape[]>;
  trial(name: string): Promise<TrialShape>;
  /** A multi-objective study's Pareto front. */
  pareto(name: string): Promise<TrialShape[]>;
}

function localSource(store: Store, dataDir: string): Source {
  const record = async (name: string) => {
    const s = await store.getStudyByName(name);
    if (!s) throw new UsageError(`no study named "${name}" in ${dataDir}`);
    return s;
  };
  return {
    studies: async () => Promise.all((await store.listStudies()).map((s) => studyShape(store, s))),
    study: async (name) => studyShape(store, await record(name)),
    trials: async (name) => {
      const s = await record(name);
      return Promise.all((await store.listTrials(s.id)).map((t) => trialShape(store, s.name, t)));
    },
    trial: async (name) => {
      const t = (await store.getTrialByName(name))!;
      return trialShape(store, (await store.getStudy(t.studyId))!.name, t);
    },
    pareto: async (name) => (await paretoShape(store, await record(name))).trials,
  };
}

function remoteSource(client: SibylClient): Source {
  return {
    studies: async () => (await client.allStudies()).map((s) => s.data),
    study: async (name) => (await client.getStudy(name)).data,
    trials: async (name) => (await client.allTrials(name)).map((t) => t.data),
    trial: async (name) => (await client.getTrial(name)).data,
    pareto: async (name) => (await client.paretoFront(name)).trials.map((t) => t.data),
  };
}

async function query(command: 'studies' | 'trials' | 'best', name: string, args: ParsedArgs, source: Source): Promise<number> {
  if (command === 'studies') {
    const studies = await source.studies();
    print(args, studies, () => studiesTable(studies));
  } else if (command === 'trials') {
    const study = await source.study(name);
    const trials = await source.trials(name);
    print(args, trials, () => trialsTable(study, trials));
  } else {
    const study = await source.study(name);
    if (study.objective.objectives.length > 1) {
      // A multi-objective study has no one best trial: its Pareto front.
      const front = await source.pareto(name);
      print(args, front, () => paretoText(study, front));
      return 0;
    }
    const best = study.best ? await source.trial(study.best.trial) : null;
    print(args, best, () => bestText(study));
  }
  return 0;
}

async function serve(args: ParsedArgs, dataDir: string, storeUrl: string | undefined): Promise<number> {
  const env = process.env;
  const port = (flag: string, envName: string, fallback: number) => {
    const raw = stringFlag(args, flag) ?? env[envName];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${flag} must be a port number from 0 to 65535 (got ${JSON.stringify(raw)})`);
    return n;
  };
  const runtime = stringFlag(args, 'runtime') ?? env['SIBYL_RUNTIME'] ?? 'local';
  if (!(RUNTIME_KINDS as readonly string[]).includes(runtime)) throw new UsageError(`--runtime must be one of ${RUNTIME_KINDS.join(', ')} (got ${JSON.stringify(runtime)})`);
  // An empty variable is an unset one; an empty --token, or white space in either, is refused.
  const token = stringFlag(args, 'token') ?? (env['SIBYL_TOKEN'] === '' ? undefined : env['SIBYL_TOKEN']);
  const host = stringFlag(args, 'host') ?? env['SIBYL_HOST'] ?? '127.0.0.1';
  const setting = (flag: string, envName: string) => {
    const v = stringFlag(args, flag) ?? env[envName];
    return v === undefined || v === '' ? undefined : v;
  };
  const algorithmTimeoutMs = seconds(setting('algorithm-timeout', 'SIBYL_ALGORITHM_TIMEOUT'), 'algorithm-timeout');
  const pendingTimeoutMs = seconds(setting('pending-timeout', 'SIBYL_PENDING_TIMEOUT'), 'pending-timeout');
  const pushUrl = setting('push-url', 'SIBYL_PUSH_URL');
  const checkpointVolume = checkpointVolumeConfig(runtime, setting);
  const katibDataDir = setting('katib-data-dir', 'SIBYL_KATIB_DATA_DIR');
  const katibTrialNamespace = setting('katib-trial-namespace', 'SIBYL_KATIB_TRIAL_NAMESPACE');
  const katibDbManagers = setting('katib-db-managers', 'SIBYL_KATIB_DB_MANAGERS')?.split(',').map((a) => a.trim()).filter((a) => a !== '');
  const { isHostPort } = await import('../service/katib.js');
  for (const a of katibDbManagers ?? []) if (!isHostPort(a)) throw new UsageError(`--katib-db-managers: ${JSON.stringify(a)} is not host:port`);
  const [allowedHosts, tlsCert, tlsKey] = [setting('allowed-hosts', 'SIBYL_ALLOWED_HOSTS'), setting('tls-cert', 'SIBYL_TLS_CERT'), setting('tls-key', 'SIBYL_TLS_KEY')];
  const leaderElection = args.flags.has('leader-elect') || env['SIBYL_LEADER_ELECTION'] === 'true' ? await leaderElectionConfig() : undefined;
  const experiments = await experimentsConfig(setting('watch-experiments', 'SIBYL_EXPERIMENT_NAMESPACES'), setting('experiment-group', 'SIBYL_EXPERIMENT_GROUP'), leaderElection?.identity);
  // Loaded only here: the servers' libraries would slow down every other command.
  const { startServer } = await import('../server/app.js');
  const running = await startServer({
    dataDir,
    ...(storeUrl ? { storeUrl } : {}),
    host,
    grpcPort: port('grpc-port', 'SIBYL_GRPC_PORT', 6789),
    httpPort: port('http-port', 'SIBYL_HTTP_PORT', 8080),
    runtime: runtime as RuntimeKind,
    ...(token !== undefined ? { token } : {}),
    ...(allowedHosts ? { allowedHosts } : {}),
    ...(tlsCert ? { tlsCert } : {}),
    ...(tlsKey ? { tlsKey } : {}),
    ...(algorithmTimeoutMs !== undefined ? { algorithmTimeoutMs } : {}),
    ...(pendingTimeoutMs !== undefined ? { pendingTimeoutMs } : {}),
    ...(checkpointVolume ? { checkpointVolume } : {}),
    ...(pushUrl ? { pushUrl } : {}),
    ...(katibDataDir ? { katibDataDir } : {}),
    ...(katibTrialNamespace ? { katibTrialNamespace } : {}),
    ...(katibDbManagers ? { katibDbManagers } : {}),
    ...(stringFlag(args, 'kubeconfig') ? { kubeconfig: stringFlag(args, 'kubeconfig')! } : {}),
    ...(leaderElection ? { leaderElection } : {}),
    ...(experiments ? { experiments } : {}),
    log: (m) => process.stderr.write(`sibyl: ${m}\n`),
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  process.stdout.write(`sibyl: serving gRPC${tlsCert ? ' (TLS)' : ''} on ${shown}:${running.grpcPort} and ${tlsCert ? 'HTTPS on https' : 'HTTP on http'}://${shown}:${running.httpPort} (data in ${dataDir}${storeUrl ? `, store ${redactUrl(storeUrl)}` : ''})\n`);
  return await new Promise<number>((done) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stderr.write(`sibyl: ${signal}: shutting down\n`);
      void running.close().then(() => done(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    // A leader that lost its Lease (or PostgreSQL lock) has stopped scheduling; exit so that the
    // container (or supervisor) restarts it and it campaigns again.
    void running.leaderLost.then(() => {
      process.stderr.write('sibyl: lost the leadership: shutting down\n');
      void running.close().then(() => done(1));
    });
  });
}

/** serve --leader-elect: the Lease's namespace, name and this process's identity, from the environment. */
async function leaderElectionConfig(): Promise<{ namespace: string; leaseName: string; identity: string }> {
  const { defaultIdentity } = await import('../server/leader.js');
  const env = process.env;
  let namespace = env['SIBYL_NAMESPACE'] || env['POD_NAMESPACE'];
  if (!namespace) {
    try {
      namespace = readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
    } catch {
      throw new UsageError('--leader-elect needs the Lease namespace: set SIBYL_NAMESPACE (or POD_NAMESPACE)');
    }
  }
  return {
    namespace,
    leaseName: env['SIBYL_LEASE_NAME'] || 'sibyl-leader',
    identity: defaultIdentity(env),
  };
}

/** serve --watch-experiments: the namespaces (Kubernetes names), the group, and this process in Events. */
async function experimentsConfig(namespaces: string | undefined, group: string | undefined, identity: string | undefined) {
  if (namespaces === undefined) {
    if (group !== undefined) throw new UsageError('--experiment-group needs --watch-experiments');
    return undefined;
  }
  const { EXPERIMENT_GROUPS } = await import('../controller/experiment-controller.js');
  const list = [...new Set(namespaces.split(',').map((n) => n.trim()).filter((n) => n !== ''))];
  const bad = list.find((n) => !isNamespaceName(n));
  if (list.length === 0 || bad !== undefined) throw new UsageError(`--watch-experiments: expected namespace names, comma-separated (got ${JSON.stringify(bad ?? namespaces)})`);
  const g = group ?? 'kubeflow.org';
  if (!(EXPERIMENT_GROUPS as readonly string[]).includes(g)) throw new UsageError(`--experiment-group: must be one of ${EXPERIMENT_GROUPS.join(', ')} (got ${JSON.stringify(g)})`);
  const { defaultIdentity } = await import('../server/leader.js');
  return { namespaces: list, group: g as (typeof EXPERIMENT_GROUPS)[number], instance: identity ?? defaultIdentity(process.env) };
}

/** Readers share the store; a runner owns it (and the trial processes tagged with it). */
async function withStore(dataDir: string, fn: (store: Store) => number | Promise<number>, { exclusive = false, storeUrl = undefined as string | undefined } = {}): Promise<number> {
  mkdirSync(dataDir, { recursive: true });
  const lock = exclusive ? lockDataDir(dataDir) : undefined;
  try {
    const { openStore } = await import('../store/open.js'); // the PostgreSQL client only when asked for
    const store = await openStore(storeUrl ?? dataDir);
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  } finally {
    lock?.release();
  }
}


/** --store / SIBYL_STORE: a PostgreSQL URL, or nothing (SQLite in the data directory). */
function storeFlag(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!isPostgresUrl(raw)) throw new UsageError(`--store must be a postgres:// or postgresql:// URL (got ${JSON.stringify(redactUrl(raw))}); the SQLite store lives in --data-dir`);
  return raw;
}

function print(args: ParsedArgs, json: unknown, text: () => string): void {
  process.stdout.write(args.flags.has('json') ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`);
}

/** A number of seconds (1 s to a day) from a flag or variable, as milliseconds. */
function seconds(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!(n >= 1 && n <= 86_400)) throw new UsageError(`--${flag} must be a number of seconds from 1 to 86400 (got ${JSON.stringify(raw)})`);
  return n * 1000;
}

/** --kube-checkpoint-claim and --kube-checkpoint-dir (or their variables), both or neither, for the kubernetes runtime. */
function checkpointVolumeConfig(runtime: string, get: (flag: string, envName: string) => string | undefined): CheckpointVolume | undefined {
  const names = { claim: ['kube-checkpoint-claim', 'SIBYL_KUBE_CHECKPOINT_CLAIM'], dir: ['kube-checkpoint-dir', 'SIBYL_KUBE_CHECKPOINT_DIR'] } as const;
  const value = (which: keyof typeof names) => {
    const v = get(names[which][0], names[which][1]);
    return v === undefined || v === '' ? undefined : v;
  };
  const [claim, dir] = [value('claim'), value('dir')];
  if (claim === undefined && dir === undefined) return undefined;
  if (runtime !== 'kubernetes') throw new UsageError('--kube-checkpoint-claim and --kube-checkpoint-dir are for --runtime kubernetes (local trials keep their checkpoints in the data directory)');
  try {
    return readCheckpointVolume(claim, dir === undefined ? undefined : resolve(dir), (which) => `--${names[which][0]}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function single(rest: readonly string[], usage: string): string {
  if (rest.length !== 1) throw new UsageError(`usage: sibyl ${usage}`);
  return rest[0]!;
}

function none(rest: readonly string[], usage: string): void {
  if (rest.length !== 0) throw new UsageError(`usage: sibyl ${usage}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof SpecError) {
      process.stderr.write(`sibyl: invalid study: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof SibylError) {
      process.stderr.write(`sibyl: ${err.message}\n`);
      process.exit(err.status === 400 || err.status === 404 || err.status === 409 ? 2 : 1);
    }
    if (err instanceof UsageError || err instanceof DataDirBusyError || (err instanceof Error && err.name === 'ConfigError')) {
      process.stderr.write(`sibyl: ${err.message}\n${err instanceof UsageError ? 'Run "sibyl --help" for usage.\n' : ''}`);
      process.exit(2);
    }
    process.stderr.write(`sibyl: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
