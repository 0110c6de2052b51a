// The CLI's --server mode: the one TypeScript client (src/client), made from the flag and
// $SIBYL_TOKEN, for the read commands and submit.
import { SibylClient } from '../client/index.js';
import { UsageError } from './args.js';

const isLoopbackHost = (h: string) => h === 'localhost' || h === '[::1]' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);

/** Fewer attempts than the client's default: a person is waiting at the terminal. */
const CLI_RETRY = { attempts: 4 };

export function connect(server: string, token = process.env['SIBYL_TOKEN'] || undefined): SibylClient {
  try {
    return new SibylClient(server, { token, retry: CLI_RETRY });
  } catch {
    throw new UsageError(`--server must be a URL such as http://127.0.0.1:8080 (got ${JSON.stringify(server)})`);
  }
}

/** Whether the server runs on this machine (a loopback address), so that it sees this machine's folders. */
export function servesThisMachine(client: SibylClient): boolean {
  return isLoopbackHost(new URL(client.url).hostname);
}
