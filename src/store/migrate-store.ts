// Moves a SQLite data directory's store into an empty PostgreSQL database, losslessly: every
// row of every table, ids kept (the identities are BY DEFAULT, and are set past the copied ids
// afterwards), in one transaction. Before it commits, every copied row is read back and
// compared with its source, the trigger-kept trial counts with SQLite's, and the per-trial
// metric aggregates with a recount of the copied observations; any difference rolls it all back.
import Database from 'better-sqlite3';
import pg from 'pg';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lockDataDir } from './lock.js';
import { pgTypes, PostgresStore } from './postgres.js';
import { DB_FILE, SqliteStore } from './sqlite.js';

/** The copied tables, parents first, each with the order both sides are read back in. */
const TABLES = [
  { table: 'studies', order: 'id', identity: true },
  { table: 'trials', order: 'id', identity: true },
  { table: 'observations', order: 'id', identity: true },
  { table: 'trial_metrics', order: 'trial_id, metric_name', identity: false },
  { table: 'observation_logs', order: 'id', identity: true },
  { table: 'enqueued_trials', order: 'id', identity: true },
  { table: 'prior_trials', order: 'study_id, seq', identity: false },
] as const;
// trial_counts is not copied: PostgreSQL's triggers count the trials as they are inserted, and
// the result is checked against SQLite's counts.

export interface MigrateStoreReport {
  /** Rows copied and read back equal, per table. */
  readonly rows: Readonly<Record<string, number>>;
  /** Per-study, per-state trial counts checked equal to SQLite's. */
  readonly trialCounts: number;
}

export class MigrateStoreError extends Error {
  override name = 'MigrateStoreError';
}

const BATCH = 1000;

export async function migrateStore(dataDir: string, url: string): Promise<MigrateStoreReport> {
  if (!existsSync(join(dataDir, DB_FILE))) throw new MigrateStoreError(`--from ${dataDir}: no Sibyl store there (no ${DB_FILE})`);
  // Nothing may write the source while it is copied: the data directory's own lock says so.
  const lock = lockDataDir(dataDir);
  try {
    await SqliteStore.open(dataDir).close(); // the source at this Sibyl's schema, as the target will be
    await (await PostgresStore.open(url)).close();
    const source = new Database(join(dataDir, DB_FILE), { readonly: true });
    source.defaultSafeIntegers(true); // integers as BigInt: no rounding on the way
    const target = new pg.Client({ connectionString: url, types: pgTypes, application_name: 'sibyl migrate-store' });
    await target.connect();
    try {
      await target.query('BEGIN');
      try {
        await target.query(`SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0`);
        // Another migrate-store, or a Sibyl creating a study meanwhile, waits for the commit.
        await target.query('LOCK TABLE studies IN SHARE ROW EXCLUSIVE MODE');
        const existing = Number((await target.query<{ n: number }>('SELECT count(*) AS n FROM studies')).rows[0]!.n);
        if (existing > 0) throw new MigrateStoreError(`the target database already has ${existing} stud${existing === 1 ? 'y' : 'ies'}; migrate-store copies into an empty store only`);
        const rows: Record<string, number> = {};
        for (const t of TABLES) {
          rows[t.table] = await copyTable(source, target, t.table);
          if (t.identity) {
            await target.query(`SELECT setval(pg_get_serial_sequence('${t.table}', 'id'), coalesce(max(id), 0) + 1, false) FROM ${t.table}`);
          }
        }
        for (const t of TABLES) await compareTable(source, target, t.table, t.order, rows[t.table]!);
        const trialCounts = await compareTrialCounts(source, target);
        await checkMetricsRecount(target);
        await target.query('COMMIT');
        return { rows, trialCounts };
      } catch (err) {
        await target.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await target.end();
      source.close();
    }
  } finally {
    lock.release();
  }
}

function columnsOf(source: Database.Database, table: string): string[] {
  return (source.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name);
}

async function copyTable(source: Database.Database, target: pg.Client, table: string): Promise<number> {
  const columns = columnsOf(source, table);
  const perRow = columns.length;
  let batch: unknown[][] = [];
  let copied = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const tuples = batch.map((_, r) => `(${columns.map((__, c) => `$${r * perRow + c + 1}`).join(', ')})`).join(', ');
    await target.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples}`, batch.flat());
    copied += batch.length;
    batch = [];
  };
  for (const row of source.prepare(`SELECT ${columns.join(', ')} FROM ${table}`).raw().iterate() as Iterable<unknown[]>) {
    batch.push(row);
    if (batch.length === BATCH) await flush();
  }
  await flush();
  return copied;
}

/** A value as both sides must agree on it: integers and reals by their decimal text (exact for both). */
const same = (v: unknown): string => (v === null ? 'NULL' : typeof v === 'bigint' || typeof v === 'number' ? `#${String(v)}` : `'${String(v)}`);

async function compareTable(source: Database.Database, target: pg.Client, table: string, order: string, expected: number): Promise<void> {
  const columns = columnsOf(source, table);
  const rows = source.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${order}`).raw().iterate() as Iterator<unknown[]>;
  // Byte order on both sides (SQLite's BINARY collation), whatever the database's collation.
  const pgOrder = order.split(', ').map((c) => (c === 'metric_name' ? `${c} COLLATE "C"` : c)).join(', ');
  await target.query(`DECLARE readback NO SCROLL CURSOR FOR SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${pgOrder}`);
  let seen = 0;
  for (;;) {
    const { rows: back } = await target.query({ text: `FETCH ${BATCH} FROM readback`, rowMode: 'array' });
    if (back.length === 0) break;
    for (const got of back as unknown[][]) {
      const want = rows.next();
      if (want.done) throw new MigrateStoreError(`${table}: PostgreSQL has more rows than SQLite after the copy`);
      const differs = columns.findIndex((_, i) => same(want.value[i]) !== same(got[i]));
      if (differs >= 0) {
        throw new MigrateStoreError(`${table} row ${seen + 1} (by ${order}): ${columns[differs]} is ${same(got[differs])} on PostgreSQL, ${same(want.value[differs])} on SQLite`);
      }
      seen += 1;
    }
  }
  await target.query('CLOSE readback');
  if (!rows.next().done || seen !== expected) throw new MigrateStoreError(`${table}: ${seen} rows read back, ${expected} copied`);
}

async function compareTrialCounts(source: Database.Database, target: pg.Client): Promise<number> {
  const key = (r: { study_id: unknown; state: unknown; n: unknown }) => `${String(r.study_id)} ${String(r.state)} ${String(r.n)}`;
  const want = (source.prepare('SELECT study_id, state, n FROM trial_counts WHERE n <> 0').all() as { study_id: bigint; state: string; n: bigint }[]).map(key).sort();
  const got = (await target.query('SELECT study_id, state, n FROM trial_counts WHERE n <> 0')).rows.map(key).sort();
  if (want.join('\n') !== got.join('\n')) {
    throw new MigrateStoreError(`trial counts differ after the copy: SQLite ${JSON.stringify(want)}, PostgreSQL ${JSON.stringify(got)}`);
  }
  return got.length;
}

/** The copied aggregates must describe the copied observations (a source whose aggregates drifted is not moved as is). */
async function checkMetricsRecount(target: pg.Client): Promise<void> {
  const { rows } = await target.query<{ trial_id: number; metric_name: string }>(`
    SELECT coalesce(m.trial_id, r.trial_id) AS trial_id, coalesce(m.metric_name, r.metric_name) AS metric_name FROM trial_metrics m FULL JOIN (
      SELECT trial_id, metric_name, count(*) AS n, min(value) AS min_value, max(value) AS max_value, max(step) AS max_step,
        (SELECT o2.value FROM observations o2 WHERE o2.trial_id = o.trial_id AND o2.metric_name = o.metric_name ORDER BY o2.id DESC LIMIT 1) AS latest_value
      FROM observations o GROUP BY trial_id, metric_name) r ON r.trial_id = m.trial_id AND r.metric_name = m.metric_name
    WHERE m.n IS DISTINCT FROM r.n OR m.min_value IS DISTINCT FROM r.min_value OR m.max_value IS DISTINCT FROM r.max_value
      OR m.max_step IS DISTINCT FROM r.max_step OR m.latest_value IS DISTINCT FROM r.latest_value
    LIMIT 5`);
  if (rows.length > 0) {
    throw new MigrateStoreError(`per-trial metric aggregates disagree with a recount of the observations for ${rows.map((r) => `trial ${r.trial_id} ${r.metric_name}`).join(', ')}`);
  }
}
