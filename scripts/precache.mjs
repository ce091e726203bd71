#!/usr/bin/env node
// Writes DIST/sw.js, the app's service worker (web/sw.js), with the list of files a visit needs
// to start the app and each file's SHA-256, and the build's id (a hash of that list).
//   node scripts/precache.mjs DIST
// Run after every build (Trunk.toml's post-build hook, and again by scripts/site-model.sh
// once it has added the site's settings file). Models (DIST/models/) are not app files: they
// go to the model store when loaded, never to this list.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = process.argv[2] || process.env.TRUNK_STAGING_DIR;
if (!dist || !fs.existsSync(path.join(dist, 'index.html'))) {
  console.error(`precache: ${dist || '(no folder given)'} has no index.html: usage: node scripts/precache.mjs DIST`);
  process.exit(2);
}

// What the page fetches to start, by kind; the service worker itself is not in its own list.
const APP_FILE = /\.(html|js|wasm|css|webmanifest|png|svg|ico|json)$/;
const files = fs
  .readdirSync(dist, { withFileTypes: true })
  .filter((e) => e.isFile() && APP_FILE.test(e.name) && e.name !== 'sw.js')
  .map((e) => e.name)
  .sort();
const glue = new Set(files.filter((f) => f.endsWith('_bg.wasm')).map((f) => f.replace(/_bg\.wasm$/, '.js')));
const list = files.map((name) => {
  const bytes = fs.readFileSync(path.join(dist, name));
  return {
    path: `./${name}`,
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    // A wasm and its JS glue must be this build's exactly: one from another release breaks
    // the page. Pages and small scripts may be rewritten on the way (hosts inject analytics,
    // the e2e servers inject their hooks), so they are kept as served.
    verify: name.endsWith('.wasm') || glue.has(name),
  };
});
const id = crypto.createHash('sha256').update(list.map((f) => `${f.path} ${f.sha256}`).join('\n')).digest('hex').slice(0, 16);
const build = { id, files: list };
const body = `const BUILD = ${JSON.stringify(build, null, 1)};\n\n${fs.readFileSync(path.join(here, '../web/sw.js'), 'utf8')}`;
fs.writeFileSync(path.join(dist, 'sw.js'), body);
const total = list.reduce((n, f) => n + f.bytes, 0);
console.log(`precache: build ${id}, ${list.length} files, ${(total / 1024).toFixed(0)} KiB -> ${path.join(dist, 'sw.js')}`);
