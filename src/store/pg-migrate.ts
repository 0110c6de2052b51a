// PostgreSQL's schema migrations: the shared `migrations/NNNN_what.sql`, with
// `migrations/postgres/NNNN_what.sql` in place of those whose SQL is not portable (same version,
// same name), recorded in the same `schema_migrations` table as on SQLite. Several replicas may
// start at once: each migration runs in its own transaction under one advisory lock, and
// re-reads what is applied once it holds it, so each is applied exactly once.
import { join } from 'node:path';
import type pg from 'pg';
import { loadMigrations, MIGRATIONS_DIR, type Migration } from './migrate.js';

/** The migrations' advisory lock (one bigint key; the store's per-study locks use the two-int4 key space). */
export const MIGRATION_LOCK_KEY = 0x5369_6279_6c4d_6967n; // "SibylMig"

export function loadPostgresMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const overrides = new Map(loadMigrations(join(dir, 'postgres')).map((m) => [m.version, m]));
  const shared = loadMigrations(dir);
  for (const o of overrides.values()) {
    const base = shared.find((m) => m.version === o.version);
    if (base?.name !== o.name) throw new Error(`migrations/postgres/${o.name} overrides no migration of the same version and name`);
  }
  return shared.map((m) => overrides.get(m.version) ?? m);
}

/** Applies every migration not yet recorded; returns the names this call applied. */
export async function migratePostgres(pool: pg.Pool, migrations: readonly Migration[] = loadPostgresMigrations()): Promise<string[]> {
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const done: string[] = [];
  const client = await pool.connect();
  try {
    for (let first = true; ; first = false) {
      const next = await inTransaction(client, async () => {
        // A migration (or another process's) may take longer than the store's usual limits.
        await client.query(`SET LOCAL lock_timeout = 0; SET LOCAL statement_timeout = 0`);
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
        if (first) await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)`);
        const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
        const newest = Math.max(0, ...applied);
        if (newest > known) {
          throw new Error(`the database has schema version ${newest}, newer than this Sibyl knows (${known}); upgrade Sibyl`);
        }
        const m = migrations.find((x) => !applied.has(x.version));
        if (!m) return undefined;
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
        return m.name;
      });
      if (next === undefined) return done;
      done.push(next);
    }
  } finally {
    client.release();
  }
}

async function inTransaction<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
