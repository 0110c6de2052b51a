// Polling for a condition in tests that drive real servers.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `fn` until it returns something other than undefined or false (errors count as "not
 * yet"), or fails after `timeoutMs` naming `what`, the last error and the `context`.
 */
export async function until<T>(
  what: string,
  timeoutMs: number,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  context: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  const extra = context();
  throw new Error(`${what}: timed out after ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}${extra ? `\n${extra}` : ''}`);
}
