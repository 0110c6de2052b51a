// The dashboard's static assets (built by `npm run build:ui` into dist/ui) served at `/`, with
// the page's own routes (/studies/:name, /trials/:name) answered by index.html. Everything the
// page loads comes from the package; its API calls carry the user's token, if any.
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** Where the built assets live: dist/ui, beside dist/src (this file is dist/src/ui/plugin.js). */
export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

const PAGE_ROUTES = ['/', '/studies/:name', '/trials/:name'];

/** Paths the page and its assets are served on, which need no token (the API calls do). */
export function isDashboardPath(path: string): boolean {
  return path === '/' || path === '/favicon.ico' || path.startsWith('/assets/') || /^\/(studies|trials)\/[^/]+\/?$/.test(path);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  gzipped?: Buffer;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return assets;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}

/**
 * The page runs only its own bundled script and talks only to its own server: an injected
 * string could neither load nor run code, nor send anything elsewhere. Style sheets come only
 * from the server too; style *attributes* are allowed because ECharts positions its tooltip
 * with them (they cannot run code, and every string the page shows is text, never markup).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "style-src-attr 'unsafe-inline'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const gzipped = promisify(gzip);

async function send(req: FastifyRequest, reply: FastifyReply, asset: Asset, cache: string) {
  reply.header('content-type', asset.type).header('cache-control', cache).header('x-content-type-options', 'nosniff')
    .header('content-security-policy', DASHBOARD_CSP).header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
  const accepts = String(req.headers['accept-encoding'] ?? '');
  if (asset.body.length > 1024 && /\bgzip\b/.test(accepts)) {
    asset.gzipped ??= await gzipped(asset.body, { level: 6 }); // once per asset, off the event loop
    return reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding').send(asset.gzipped);
  }
  return reply.send(asset.body);
}

export const dashboard: FastifyPluginAsync<{ dir?: string }> = async (app, opts) => {
  const assets = loadAssets(opts.dir ?? UI_DIR);
  const index = assets.get('index.html');
  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!index) return reply.code(404).type('text/plain').send('the dashboard is not built: run `npm run build:ui`');
    return send(req, reply, index, 'no-cache');
  };
  for (const url of PAGE_ROUTES) app.get(url, { schema: { hide: true } }, page);
  app.get('/assets/:file', { schema: { hide: true } }, async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const asset = file === 'index.html' ? undefined : assets.get(file);
    if (!asset) return reply.code(404).type('text/plain').send('not found');
    // index.html names its assets with the build's hash (?v=…): those URLs never change content.
    return send(req, reply, asset, 'v' in (req.query as object) ? 'public, max-age=31536000, immutable' : 'no-cache');
  });
};
