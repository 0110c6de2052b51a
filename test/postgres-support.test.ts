// The PostgreSQL the store's tests will run on (issue #13): test/support/postgres.ts starts a
// real server from Debian's package in a temporary directory, and stop() leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { startPostgres, withClient } from './support/postgres.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a real PostgreSQL starts on a free loopback port, answers through pg, and stop() ends it and removes its directory', async () => {
  const server = await startPostgres({ settings: { statement_timeout: '5s' } });
  let stopped = false;
  try {
    assert.ok(alive(server.pid), 'the postmaster runs');
    assert.match(server.url, /^postgres:\/\/sibyl@127\.0\.0\.1:\d+\/postgres$/);
    // The pid we hold is the postmaster's own (the data directory's lock file names it).
    const pidLine = readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0];
    assert.equal(Number(pidLine), server.pid);

    const row = await withClient(server.url, async (c) => (await c.query<{ n: number; v: string; t: string }>(
      `SELECT $1::int + 1 AS n, current_setting('server_version_num') AS v, current_setting('statement_timeout') AS t`, [41])).rows[0]);
    assert.equal(row?.n, 42);
    assert.ok(Number(row?.v) >= 150000, `server_version_num ${row?.v}`);
    assert.equal(row?.t, '5s', 'the settings passed reach the server');

    // A database per test, reachable by its URL; a write there is read back.
    const url = await server.createDatabase('support_check');
    const back = await withClient(url, async (c) => {
      await c.query('CREATE TABLE t (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL)');
      await c.query(`INSERT INTO t (v) VALUES ('a'), ('b')`);
      return (await c.query<{ v: string }>('SELECT v FROM t ORDER BY id')).rows.map((r) => r.v);
    });
    assert.deepEqual(back, ['a', 'b']);

    await server.stop();
    stopped = true;
    assert.equal(alive(server.pid), false, 'the postmaster is gone');
    assert.equal(existsSync(server.dir), false, 'its directory is removed');
    const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 });
    await assert.rejects(client.connect(), /ECONNREFUSED|timeout/i, 'nothing listens on its port any more');
  } finally {
    if (!stopped) await server.stop();
  }
});
