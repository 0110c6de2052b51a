// `sibyl migrate-store --from <sqlite data dir> --to postgres://…`: moves a store that outgrew
// SQLite into PostgreSQL (src/store/migrate-store.ts) and reports what it copied and checked.
import { resolve } from 'node:path';
import { isPostgresUrl, redactUrl as redact } from '../store/url.js';
import { MigrateStoreError, migrateStore } from '../store/migrate-store.js';
import { stringFlag, UsageError, type ParsedArgs } from './args.js';

export async function migrateStoreCommand(args: ParsedArgs, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const from = stringFlag(args, 'from');
  const to = stringFlag(args, 'to');
  if (!from || !to) throw new UsageError('usage: sibyl migrate-store --from <data dir> --to postgres://…');
  if (!isPostgresUrl(to)) throw new UsageError(`migrate-store --to must be a postgres:// or postgresql:// URL (got ${JSON.stringify(redact(to))})`);
  try {
    const report = await migrateStore(resolve(from), to);
    if (args.flags.has('json')) {
      out.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const rows = Object.entries(report.rows).map(([table, n]) => `  ${table.padEnd(18)} ${n}`).join('\n');
      out.write(`Copied ${resolve(from)} to ${redact(to)}; every row read back equal:\n${rows}\n  trial counts       ${report.trialCounts} (study, state) pairs equal\n`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof MigrateStoreError)) throw e;
    err.write(`sibyl: migrate-store: ${e.message}; nothing was copied\n`);
    return 1;
  }
}
