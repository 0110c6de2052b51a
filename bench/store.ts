// The store side by side on SQLite and PostgreSQL, in one run:
//
//   per trial   the store calls one trial costs the scheduler (bench/store-trials.ts), TRIALS
//               trials of one study on each backend: median and p99, per phase
//   ingest      observation rows/s through Store.addObservations, written as ObservationBatcher
//               writes them (one call per tick for every trial that printed, one at a time)
//   api         the REST API's ingest rate (bench/store-api.ts): 1 `sibyl serve` on SQLite, and
//               1 and 2 on the PostgreSQL store behind a round-robin client
//
// SQLite is a file in a temp data dir (WAL, synchronous=NORMAL). PostgreSQL is the --store URL
// (or $SIBYL_STORE), or else a server this bench starts itself with test/support/postgres.ts
// (Debian's `postgresql`, initdb in a temp dir, default durability) and removes afterwards. On
// a URL of yours the bench's studies are named bench-<run id>-… and deleted at the end.
//
// Flags: --store <url>, --trials N (default 1000), --seconds N (each ingest phase, default 5),
//        --rounds N (API configurations measured in turn N times, default 3: the machine's load
//        moves more than the difference between them), --pg-setting name=value (repeatable; the
//        bench's own server only), --no-api
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { isPostgresUrl, redactUrl } from '../src/store/url.js';
import { startPostgres, type PostgresServer } from '../test/support/postgres.js';
import { describeMachine, machineLine, writeResults } from './results.js';
import { apiIngest, type ApiIngestResult } from './store-api.js';
import type { Stats } from './stats.js';
import { ingest, LINES_PER_TRIAL, PHASES, perTrial, READS, type IngestResult, type IngestShape, type PerTrialResult } from './store-trials.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const WARMUP_TRIALS = 100;
/** 10 trials printing a line per tick, and a busy tick: 50 trials × 10 lines. */
const SHAPES: IngestShape[] = [{ trials: 10, linesPerTick: 1 }, { trials: 50, linesPerTick: 10 }];

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
function count(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer (got ${JSON.stringify(raw)})`);
  return n;
}
function pgSettings(): Record<string, string> {
  const out: Record<string, string> = {};
  process.argv.forEach((a, i) => {
    if (a !== '--pg-setting') return;
    const m = /^(\w+)=(.*)$/.exec(process.argv[i + 1] ?? '');
    if (!m) throw new Error(`--pg-setting needs name=value (got ${JSON.stringify(process.argv[i + 1])})`);
    out[m[1]!] = m[2]!;
  });
  return out;
}

const TRIALS = count('trials', 1000);
const SECONDS = count('seconds', 5);
const ROUNDS = count('rounds', 3);
const API = !process.argv.includes('--no-api');
const GIVEN_URL = option('store') ?? process.env['SIBYL_STORE'];
const SETTINGS = pgSettings();
const RUN = Date.now().toString(36);

interface BackendResult { perTrial: PerTrialResult; ingest: IngestResult[] }

async function measure(store: Store, label: string): Promise<BackendResult> {
  process.stderr.write(`${label}: ${TRIALS} trials…\n`);
  const trials = await perTrial(store, `bench-${RUN}-trials`, TRIALS, WARMUP_TRIALS);
  const rates: IngestResult[] = [];
  for (const shape of SHAPES) {
    process.stderr.write(`${label}: ingest, ${shape.trials} trials × ${shape.linesPerTick} line(s) a tick…\n`);
    rates.push(await ingest(store, `bench-${RUN}-ingest-${shape.trials}x${shape.linesPerTick}`, shape, SECONDS));
  }
  return { perTrial: trials, ingest: rates };
}

/** Deletes this run's studies (from a database that may not be ours to throw away). */
async function cleanUp(url: string): Promise<void> {
  const store = await openStore(url);
  try {
    for (const s of await store.listStudies()) if (s.name.startsWith(`bench-${RUN}-`)) await store.deleteStudy(s.id);
  } finally {
    await store.close();
  }
}

// ── report ─────────────────────────────────────────────────────────────────

const n3 = (x: number) => x.toFixed(3);
const ratio = (pg: number, lite: number) => `${(pg / lite).toFixed(1)}×`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

function report(lite: BackendResult, pg: BackendResult, api: ApiIngestResult[], pgLabel: string): string {
  const phaseRow = (label: string, a: Stats, b: Stats) => [label, n3(a.median), n3(a.p99), n3(b.median), n3(b.p99), ratio(b.median, a.median)];
  const out: string[] = [];
  out.push(`Per trial, ${TRIALS} trials of one study (${LINES_PER_TRIAL} observation lines × 2 metrics each), ms`);
  out.push(table(['', 'SQLite median', 'p99', 'PostgreSQL median', 'p99', 'PG/SQLite'], [
    phaseRow('whole trial', lite.perTrial.perTrial, pg.perTrial.perTrial),
    ...PHASES.map((p) => phaseRow(`  ${p}`, lite.perTrial.perPhase[p], pg.perTrial.perPhase[p])),
  ]));
  out.push(`\nMedian of the ${lite.perTrial.windows[0]!.window} trials before trial N, ms (flat = nothing grows with the history)`);
  out.push(table(['N', 'SQLite whole', ...READS.map((r) => `SQLite ${r}`), 'PG whole', ...READS.map((r) => `PG ${r}`)],
    lite.perTrial.windows.map((w, i) => {
      const v = pg.perTrial.windows[i]!;
      return [String(w.trial), n3(w.median), ...READS.map((r) => n3(w.readsMedian[r])), n3(v.median), ...READS.map((r) => n3(v.readsMedian[r]))];
    })));
  out.push('\nlistTrials, the whole history (20 reads each), median ms');
  out.push(table(['trials', 'SQLite', 'PostgreSQL', 'PG/SQLite'], lite.perTrial.listTrials.map((l, i) => {
    const m = pg.perTrial.listTrials[i]!;
    return [String(l.trials), n3(l.median), n3(m.median), ratio(m.median, l.median)];
  })));
  out.push(`\nObservation ingest through Store.addObservations, one write per tick, one at a time, ${SECONDS} s each`);
  out.push(table(['tick', 'rows/write', 'SQLite rows/s', 'write p50 ms', 'p99', 'PostgreSQL rows/s', 'write p50 ms', 'p99', 'SQLite/PG'], lite.ingest.map((a, i) => {
    const b = pg.ingest[i]!;
    return [`${a.trials} trials × ${a.linesPerTick} line${a.linesPerTick > 1 ? 's' : ''}`, String(a.rowsPerWrite), int(a.rowsPerSecond), n3(a.writeMs.median), n3(a.writeMs.p99), int(b.rowsPerSecond), n3(b.writeMs.median), n3(b.writeMs.p99), ratio(a.rowsPerSecond, b.rowsPerSecond)];
  })));
  if (api.length > 0) {
    out.push(`\nREST ingest, POST /api/v1/trials/:name/observations × ${api[0]!.batch} points, ${api[0]!.clients} clients, round-robin over the replicas, ${SECONDS} s × ${ROUNDS} rounds`);
    out.push(table(['store', 'replicas', 'points/s, median round', 'rounds (points/s)', 'p50 ms', 'p99 ms', 'requests per replica'], apiSummary(api).map(({ runs, median }) => [
      median.store, String(median.replicas), int(median.pointsPerSecond), runs.map((r) => int(r.pointsPerSecond)).join(' / '),
      n3(median.latencyMs.median), n3(median.latencyMs.p99), median.perReplicaRequests.join(' / '),
    ])));
  }
  out.push(`\nPostgreSQL: ${pgLabel}`);
  return out.join('\n');
}

/** Per configuration, its rounds in order and the round with the median rate. */
function apiSummary(api: readonly ApiIngestResult[]): { runs: ApiIngestResult[]; median: ApiIngestResult }[] {
  const keys = [...new Set(api.map((r) => `${r.store} ${r.replicas}`))];
  return keys.map((k) => {
    const runs = api.filter((r) => `${r.store} ${r.replicas}` === k);
    const sorted = [...runs].sort((a, b) => a.pointsPerSecond - b.pointsPerSecond);
    return { runs, median: sorted[Math.floor((sorted.length - 1) / 2)]! };
  });
}

// ── main ───────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  if (GIVEN_URL !== undefined && !isPostgresUrl(GIVEN_URL)) throw new Error(`--store must be a postgres:// URL (got ${JSON.stringify(redactUrl(GIVEN_URL))})`);
  if (GIVEN_URL && Object.keys(SETTINGS).length > 0) throw new Error('--pg-setting applies to the server the bench starts, not to a --store URL');
  const loadBefore = loadavg();
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-store-'));
  let server: PostgresServer | undefined;
  try {
    if (!GIVEN_URL) {
      process.stderr.write('starting PostgreSQL (test/support/postgres.ts)…\n');
      server = await startPostgres({ settings: SETTINGS });
    }
    const pgUrl = GIVEN_URL ?? (await server!.createDatabase('bench_store'));
    const pgLabel = GIVEN_URL
      ? `${redactUrl(GIVEN_URL)} (given)`
      : `started by the bench on 127.0.0.1, ${Object.keys(SETTINGS).length ? Object.entries(SETTINGS).map(([k, v]) => `${k}=${v}`).join(', ') : 'default settings (fsync on, synchronous_commit on)'}`;

    const sqlite = await openStore(dataDir);
    const lite = await measure(sqlite, 'SQLite').finally(() => sqlite.close());
    const postgres = await openStore(pgUrl);
    const pg = await measure(postgres, 'PostgreSQL').finally(() => postgres.close());

    // Unfinished studies would be taken up by the replicas below (each leader adopts every
    // unfinished study it finds) and launch trials during the measurement: remove them first.
    await cleanUp(pgUrl);
    const api: ApiIngestResult[] = [];
    for (let round = 1; API && round <= ROUNDS; round += 1) {
      for (const [label, url, replicas] of [['SQLite', undefined, 1], ['PostgreSQL', pgUrl, 1], ['PostgreSQL', pgUrl, 2]] as const) {
        process.stderr.write(`REST ingest, round ${round}: ${label}, ${replicas} replica(s)…\n`);
        api.push(await apiIngest(MAIN, label, url, replicas, `bench-${RUN}-api-${label.toLowerCase()}-${replicas}-${round}`, SECONDS));
      }
    }
    if (GIVEN_URL) await cleanUp(GIVEN_URL);

    const machine = describeMachine();
    const loadAfter = machine.load;
    console.log(`Store: SQLite and PostgreSQL side by side — ${machineLine(machine)}`);
    console.log(`load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after; ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    console.log(report(lite, pg, api, pgLabel));

    const file = writeResults('store', {
      loadBefore, // the machine's load is the one after
      seconds: (Date.now() - started) / 1000,
      unit: 'ms', trials: TRIALS, linesPerTrial: LINES_PER_TRIAL, metricsPerLine: 2, ingestSeconds: SECONDS,
      postgres: pgLabel,
      sqlite: lite, postgresql: pg,
      api: { rounds: ROUNDS, runs: api, medians: apiSummary(api).map((s) => s.median) },
    }, machine);
    console.log(`\nresults: ${file}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    await server?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
});
