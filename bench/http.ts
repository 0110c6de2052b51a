// The benches' HTTP client: one keep-alive request on 127.0.0.1, and its JSON answer (a status
// of 300 or more is an error). Node's http, not fetch, so the agent and its sockets are ours.
import http from 'node:http';

export interface HttpResult { status: number; body: string }

export function request(agent: http.Agent, port: number, method: string, path: string, body?: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path, agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function json(agent: http.Agent, port: number, method: string, path: string, body?: unknown): Promise<any> {
  const res = await request(agent, port, method, path, body === undefined ? undefined : JSON.stringify(body));
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
  return res.body ? JSON.parse(res.body) : undefined;
}
