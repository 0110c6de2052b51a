// The crash test of `sibyl run` with `--store postgres://…` on a real PostgreSQL server: the
// SIGKILLed runs leave their connections (and any open transaction) to the server to end.
import { after, before, test } from 'node:test';
import { crashAndResume } from './support/crash-run.js';
import { startPostgres, type PostgresServer } from './support/postgres.js';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

test('sibyl run --store postgres:// killed with SIGKILL at random moments finishes the 12-point grid exactly once', { timeout: 180_000 }, async () => {
  await crashAndResume(await server.createDatabase('crash'));
});
