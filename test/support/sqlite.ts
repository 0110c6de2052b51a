// A second, raw connection to a store's SQLite file, for tests that look at the tables
// themselves (the store's own handle is private). Closed when the test process exits.
import Database from 'better-sqlite3';
import type { SqliteStore } from '../../src/store/sqlite.js';

const open = new Map<string, Database.Database>();
process.on('exit', () => {
  for (const db of open.values()) db.close();
});

export function inspect(store: SqliteStore): Database.Database {
  let db = open.get(store.path);
  if (!db || !db.open) open.set(store.path, (db = new Database(store.path)));
  return db;
}
