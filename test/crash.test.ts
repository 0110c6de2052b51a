// Crash safety: `sibyl run` killed with SIGKILL at random moments loses no trial, runs no
// assignment twice, and leaves no trial process behind (SQLite store in the data directory;
// test/crash-postgres.test.ts runs the same body on PostgreSQL).
import { test } from 'node:test';
import { crashAndResume } from './support/crash-run.js';

test('sibyl run killed with SIGKILL at random moments finishes the 12-point grid exactly once', { timeout: 180_000 }, () => crashAndResume());
