// What only the SQLite backend has (the store's contract is test/store.test.ts): its migrations
// on a file in WAL mode, the index plans of the scheduler's reads, and the data-directory lock
// across processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

import { loadMigrations, migrate } from '../src/store/migrate.js';
import { DataDirBusyError, lockDataDir } from '../src/store/lock.js';
import { inspect } from './support/sqlite.js';
import { SqliteStore } from '../src/store/sqlite.js';

// ---- helpers ----

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-store-test-'));
  dirs.push(dir);
  return dir;
}
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh store in a fresh directory, closed after the test. */
function withStore(t: { after(fn: () => Promise<void>): void }): { store: SqliteStore; dir: string } {
  const dir = tempDir();
  const store = SqliteStore.open(dir);
  t.after(() => store.close());
  return { store, dir };
}

// ---- migrations ----

test('migrations: a new store records every migration, in WAL mode', (t) => {
  const { store } = withStore(t);
  const known = loadMigrations();
  assert.ok(known.length >= 1);
  const rows = inspect(store).prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number; name: string }[];
  assert.deepEqual(
    rows.map((r) => [r.version, r.name]),
    known.map((m) => [m.version, m.name]),
  );
  assert.equal(inspect(store).pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(inspect(store).pragma('foreign_keys', { simple: true }), 1);
});

test('migrations: reopening applies nothing again', async () => {
  const dir = tempDir();
  const first = SqliteStore.open(dir);
  const before = inspect(first).prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
  await first.close();
  const second = SqliteStore.open(dir);
  try {
    const after = inspect(second).prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(after, before);
    assert.equal(inspect(second).pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    await second.close();
  }
});

test('migrations: a database from a newer Sibyl is refused', async () => {
  const dir = tempDir();
  await SqliteStore.open(dir).close();
  const raw = new Database(join(dir, 'sibyl.db'));
  raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(9999, '9999_future.sql', new Date().toISOString());
  raw.close();
  assert.throws(() => SqliteStore.open(dir), /schema version 9999, newer than this Sibyl knows \(\d+\); upgrade Sibyl/);
});

test('migrations: only the migrations not yet recorded are applied, each with its record', (t) => {
  const { store } = withStore(t);
  const known = loadMigrations();
  const next = Math.max(...known.map((m) => m.version)) + 1;
  const extra = { version: next, name: `${String(next).padStart(4, '0')}_extra.sql`, sql: 'CREATE TABLE extra (x INTEGER);' };
  assert.deepEqual(migrate(inspect(store), [...known, extra]), [extra.name]);
  assert.deepEqual(migrate(inspect(store), [...known, extra]), []);
  assert.equal((inspect(store).prepare('SELECT name FROM schema_migrations WHERE version = ?').get(next) as { name: string }).name, extra.name);
  // A failing migration leaves neither its changes nor its record.
  const broken = { version: next + 1, name: 'broken.sql', sql: 'CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;' };
  assert.throws(() => migrate(inspect(store), [...known, extra, broken]), /no such table/);
  assert.equal(inspect(store).prepare(`SELECT name FROM sqlite_master WHERE name = 'half'`).get(), undefined);
  assert.equal(inspect(store).prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(next + 1), undefined);
});

const RECOUNT = `SELECT metric_name AS name, min(value) AS min, max(value) AS max, count(*) AS count,
  (SELECT o2.value FROM observations o2 WHERE o2.trial_id = o.trial_id AND o2.metric_name = o.metric_name ORDER BY o2.id DESC LIMIT 1) AS latest
  FROM observations o WHERE trial_id = ? GROUP BY metric_name ORDER BY metric_name`;

test('migrations: trial_metrics is filled from the observations of an existing store', () => {
  const db = new Database(join(tempDir(), 'old.db'));
  try {
    db.pragma('foreign_keys = ON');
    const all = loadMigrations();
    const version = all.find((m) => m.name.endsWith('_trial_metrics.sql'))!.version;
    migrate(db, all.filter((m) => m.version < version));
    const at = '2026-11-28T00:00:00.000Z';
    db.prepare(`INSERT INTO studies (id, name, spec_json, base_dir, state, seed, created_at) VALUES (1, 'old', '{}', '/', 'RUNNING', 1, ?)`).run(at);
    const trial = db.prepare(`INSERT INTO trials (id, study_id, seq, name, assignment_json, state, created_at) VALUES (?, 1, ?, ?, '{}', 'RUNNING', ?)`);
    trial.run(1, 1, 'old-0001', at);
    trial.run(2, 2, 'old-0002', at);
    const o = db.prepare('INSERT INTO observations (trial_id, metric_name, step, value, time) VALUES (?, ?, ?, ?, ?)');
    for (const [id, metric, step, value] of [[1, 'loss', 4, 0.5], [1, 'loss', 2, 0.1], [1, 'accuracy', 1, 0.7], [2, 'loss', 1, 9], [1, 'loss', 3, 0.3]] as const) o.run(id, metric, step, value, at);
    migrate(db);
    for (const id of [1, 2]) {
      const rows = db.prepare(`SELECT metric_name AS name, min_value AS min, max_value AS max, n AS count, latest_value AS latest
        FROM trial_metrics WHERE trial_id = ? ORDER BY metric_name`).all(id);
      assert.deepEqual(rows, db.prepare(RECOUNT).all(id));
    }
    assert.equal((db.prepare(`SELECT max_step AS s FROM trial_metrics WHERE trial_id = 1 AND metric_name = 'loss'`).get() as { s: number }).s, 4);
  } finally {
    db.close();
  }
});

test('the scheduler\'s per-pass reads use an index, not a walk over the whole history', (t) => {
  const { store } = withStore(t);
  const stmts = (store as unknown as { stmt: Record<string, Database.Statement> }).stmt;
  const plan = (name: string) =>
    (inspect(store).prepare(`EXPLAIN QUERY PLAN ${stmts[name]!.source}`).all(1) as { detail: string }[]).map((r) => r.detail).join(' | ');
  assert.match(plan('activeTrials'), /USING INDEX trials_active/);
  assert.match(plan('bestMin'), /USING INDEX trials_best/);
  assert.match(plan('bestMax'), /USING INDEX trials_best/);
  for (const name of ['activeTrials', 'bestMin', 'bestMax']) assert.doesNotMatch(plan(name), /TEMP B-TREE FOR ORDER BY/, name);
  // A page of a trial's observations is a range of an index, not a sort of all of them.
  const page = (inspect(store).prepare(`EXPLAIN QUERY PLAN ${stmts['observationsPage']!.source}`).all(1, 0, 10) as { detail: string }[]).map((r) => r.detail).join(' | ');
  assert.match(page, /USING (COVERING )?INDEX observations_by_trial \(trial_id=\? AND rowid>\?\)/);
  assert.doesNotMatch(page, /TEMP B-TREE/);
});

// ---- the data-directory lock ----

const LOCK_MODULE = new URL('../src/store/lock.js', import.meta.url).href;

test('lock: a live process holding the lock makes lockDataDir throw; its lock is taken over once it is killed', async (t) => {
  const dir = tempDir();
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};
       lockDataDir(process.argv[1]);
       process.stdout.write('locked\\n');
       setInterval(() => {}, 60_000);`,
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`the lock holder exited early (${code ?? signal})`)));
  });

  assert.throws(() => lockDataDir(dir), (err: Error) => {
    assert.ok(err instanceof DataDirBusyError);
    assert.match(err.message, new RegExp(`in use by process ${child.pid}`));
    return true;
  });

  child.kill('SIGKILL');
  await exited; // reaped: no longer a zombie that still answers kill(pid, 0)
  const lock = lockDataDir(dir);
  lock.release();
  // Released: the next lock is immediate.
  lockDataDir(dir).release();
});

test('#4 (hardening) lock: after a SIGKILL, contenders racing for the lock never hold it two at a time (30 rounds of 4)', { timeout: 180_000 }, async () => {
  // Each contender waits for the same moment and tries once; one that gets the lock holds it for
  // a second and reports when it held it. Two holders whose times overlap would be two owners.
  const contender = `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};
    const [dir, at] = process.argv.slice(1);
    setTimeout(() => {
      let lock;
      try { lock = lockDataDir(dir); } catch (e) { process.stdout.write(e.name === 'DataDirBusyError' ? 'busy' : 'error ' + e.message); return; }
      const from = Date.now();
      setTimeout(() => { process.stdout.write('got ' + from + ' ' + Date.now()); lock.release(); }, 1000);
    }, Number(at) - Date.now());`;
  const run = (dir: string, at: number) => new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', contender, dir, String(at)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', () => resolve(out));
  });
  let contended = 0;
  for (let round = 0; round < 30; round++) {
    const dir = tempDir();
    // A holder killed with SIGKILL leaves what a crash leaves behind.
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)}; lockDataDir(process.argv[1]); process.stdout.write('locked'); setInterval(() => {}, 1000);`, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const gone = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    holder.kill('SIGKILL');
    await gone;
    const outcomes = await Promise.all([0, 1, 2, 3].map(() => run(dir, Date.now() + 700)));
    assert.ok(outcomes.every((o) => o === 'busy' || o.startsWith('got ')), `round ${round}: ${outcomes.join(', ')}`);
    const held = outcomes.filter((o) => o.startsWith('got ')).map((o) => o.split(' ').slice(1).map(Number) as [number, number]).sort((a, b) => a[0] - b[0]);
    assert.ok(held.length >= 1, `round ${round}: nobody took the lock a killed process left`);
    for (let i = 1; i < held.length; i++) assert.ok(held[i]![0] >= held[i - 1]![1], `round ${round}: two holders at once: ${JSON.stringify(held)}`);
    if (outcomes.includes('busy')) contended += 1;
  }
  assert.ok(contended >= 20, `only ${contended} of 30 rounds had a contender refused: the race was not exercised`);
});

test('lock: the text lock file of an older Sibyl, left by a dead process, is replaced', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'sibyl.lock'), '999999999\n');
  const lock = lockDataDir(dir);
  assert.throws(() => lockDataDir(dir), DataDirBusyError);
  lock.release();
  lockDataDir(dir).release();
});
