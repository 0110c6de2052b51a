// Which store a target names: a PostgreSQL URL (postgres:// or postgresql://) opens the shared
// backend; anything else is a data directory with the embedded SQLite store.
import { PostgresStore, type PostgresOptions } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

import { isPostgresUrl } from './url.js';

export { isPostgresUrl } from './url.js';

export async function openStore(target: string, options: PostgresOptions = {}): Promise<Store> {
  return isPostgresUrl(target) ? PostgresStore.open(target, options) : SqliteStore.open(target);
}
