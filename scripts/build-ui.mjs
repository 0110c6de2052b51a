#!/usr/bin/env node
// Builds the dashboard (src/ui/web) into dist/ui: type-checks it, bundles it with esbuild
// (ECharts and yaml included: the page loads nothing from elsewhere) and stamps index.html
// with the bundle's hash so the assets can be cached.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/ui/web');
const out = join(root, 'dist/ui');

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(src, 'tsconfig.json')], { stdio: 'inherit' });

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { app: join(src, 'main.ts'), style: join(src, 'style.css') },
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  write: false,
  outdir: out,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
const hash = createHash('sha256');
for (const f of result.outputFiles) {
  const name = f.path.endsWith('.css') ? 'app.css' : 'app.js';
  writeFileSync(join(out, name), f.contents);
  hash.update(f.contents);
}
const v = hash.digest('hex').slice(0, 12);
writeFileSync(join(out, 'index.html'), readFileSync(join(src, 'index.html'), 'utf8').replaceAll('__HASH__', v));
const sizes = result.outputFiles.map((f) => `${f.path.endsWith('.css') ? 'app.css' : 'app.js'} ${(f.contents.length / 1024).toFixed(0)} KiB`).join(', ');
console.log(`dashboard built into dist/ui (${sizes}; v=${v})`);
