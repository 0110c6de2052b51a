// The store's two backends as the contract suite (test/store.test.ts) sees them: a fresh, empty
// store per test, and a raw SQL handle on the same database for looking at the tables
// themselves (`?` placeholders on both; numbers come back as Numbers on both).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { inspect } from './sqlite.js';

export interface RawSql {
  all(sql: string, ...params: unknown[]): Promise<Record<string, unknown>[]>;
  run(sql: string, ...params: unknown[]): Promise<void>;
  count(table: string): Promise<number>;
}

export interface StoreBackend {
  readonly name: 'sqlite' | 'postgres';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A fresh store on an empty database, closed (with its raw handle) after the test. */
  open(t: { after(fn: () => Promise<void> | void): void }): Promise<{ store: Store; raw: RawSql }>;
}

const counting = (all: RawSql['all']) => async (table: string) => Number((await all(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

export function sqliteBackend(): StoreBackend {
  const dirs: string[] = [];
  return {
    name: 'sqlite',
    async start() {},
    async stop() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
    async open(t) {
      const dir = mkdtempSync(join(tmpdir(), 'sibyl-store-test-'));
      dirs.push(dir);
      const store = SqliteStore.open(dir);
      t.after(() => store.close());
      const all = async (sql: string, ...params: unknown[]) => inspect(store).prepare(sql).all(...params) as Record<string, unknown>[];
      return { store, raw: { all, run: async (sql, ...params) => void inspect(store).prepare(sql).run(...params), count: counting(all) } };
    },
  };
}

/** int8 (count(*), ids) as Numbers, as the store reads them. */
const numericTypes = {
  getTypeParser: (oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')),
} as unknown as pg.CustomTypesConfig;

export const positional = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** A raw pool on a PostgreSQL database, `?` placeholders allowed. */
export function rawPostgres(url: string): RawSql & { end(): Promise<void>; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, types: numericTypes, max: 2 });
  const all = async (sql: string, ...params: unknown[]) => (await pool.query(positional(sql), params)).rows as Record<string, unknown>[];
  return { pool, all, run: async (sql, ...params) => void await pool.query(positional(sql), params), count: counting(all), end: () => pool.end() };
}

export function postgresBackend(): StoreBackend & { server(): PostgresServer; freshDatabase(): Promise<string> } {
  let server: PostgresServer | undefined;
  let n = 0;
  const freshDatabase = () => server!.createDatabase(`contract_${++n}`);
  return {
    name: 'postgres',
    server: () => server!,
    freshDatabase,
    async start() {
      server = await startPostgres();
    },
    async stop() {
      await server?.stop();
    },
    async open(t) {
      const url = await freshDatabase();
      const store = await PostgresStore.open(url);
      const raw = rawPostgres(url);
      t.after(async () => {
        await store.close();
        await raw.end();
      });
      return { store, raw };
    },
  };
}
