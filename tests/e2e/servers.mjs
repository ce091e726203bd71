// The e2e suites' servers, all on 127.0.0.1 (the only network there is): static hosting of a
// built site (dist/, the sub-path build, the embedding example) and a mirror of the Hub's
// file layout for the fixture model, with faults on demand. Every HTML page gets the test
// hooks (hooks/page.js) and every worker loader the worker hook (hooks/worker.js); errors the
// hooks report arrive in `pageErrors`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const dist = path.join(root, 'dist');
export const subDist = path.join(root, 'target/dist-subpath');
export const examples = path.join(root, 'examples');
export const fixtures = path.join(root, 'tests/fixtures/tiny-dialogpt');
export const variants = path.join(root, 'tests/fixtures/tiny-variants');
// tiny-variants/model-q8_0.gguf split by gguf-py into 3 shards (make_split_fixture.py).
export const splitShards = path.join(root, 'tests/fixtures/split-gguf-py');
export const TEST_REPO = 'test/tiny-dialogpt';
// A Hub repo holding a split GGUF alone (no config.json): the shards of splitShards.
export const SPLIT_REPO = 'test/tiny-split';
export const SUB = '/sub/path/';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png', '.webmanifest': 'application/manifest+json',
};

export function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

/** Errors the page hooks reported (uncaught errors, unhandled rejections, CSP violations). */
export const pageErrors = [];

const HOOK_FILES = { '/__e2e/page.js': 'hooks/page.js', '/__e2e/worker.js': 'hooks/worker.js' };

/** The hooks' own endpoints; true when `req` was one of them. */
function serveHooks(req, res, headers) {
  const urlPath = new URL(req.url, 'http://x').pathname;
  if (urlPath === '/__e2e/error' && req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        pageErrors.push(JSON.parse(body));
      } catch (_) {
        pageErrors.push({ kind: 'unreadable report', text: body });
      }
      res.writeHead(204, headers);
      res.end();
    });
    return true;
  }
  if (HOOK_FILES[urlPath]) {
    res.writeHead(200, { 'Content-Type': TYPES['.js'], 'Cache-Control': 'no-store', ...headers });
    res.end(fs.readFileSync(path.join(here, HOOK_FILES[urlPath])));
    return true;
  }
  return false;
}

/** The page as served, with the test hooks put first into <head>. */
function withHooks(file, data) {
  if (file.endsWith('.html')) {
    return Buffer.from(data.toString('utf8').replace(/<head>/i, '<head><script src="/__e2e/page.js"></script>'));
  }
  if (/_loader\.js$/.test(file)) return Buffer.concat([Buffer.from("importScripts('/__e2e/worker.js');\n"), data]);
  return data;
}

// Serves a file like a CDN would: Content-Length, an ETag, byte ranges (206).
// `slow`: sends 256 KiB every 25 ms (or that many ms), so download progress can be seen.
// `dropAfter`: the connection is cut after that many bytes (a flaky network).
export function sendFile(req, res, file, headers = {}, { slow = false, dropAfter = null, etag = null, hooks = false } = {}) {
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...headers });
      return res.end('Entry not found');
    }
    const type = TYPES[path.extname(file)] || 'application/octet-stream';
    if (hooks && (file.endsWith('.html') || file.endsWith('_loader.js'))) {
      const body = withHooks(file, fs.readFileSync(file));
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store', ...headers });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    const tag = etag || `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range || '');
    if (range && Number(range[1]) < st.size) {
      start = Number(range[1]);
      status = 206;
    }
    const extra = status === 206 ? { 'Content-Range': `bytes ${start}-${st.size - 1}/${st.size}` } : {};
    res.writeHead(status, {
      'Content-Type': type, 'Content-Length': st.size - start, 'Cache-Control': 'no-store', ETag: tag,
      'Accept-Ranges': 'bytes', ...extra, ...headers,
    });
    if (req.method === 'HEAD') return res.end();
    const stream = fs.createReadStream(file, { start, highWaterMark: 256 * 1024 });
    let sent = 0;
    stream.on('data', (chunk) => {
      if (dropAfter !== null && sent + chunk.length > dropAfter) {
        res.write(chunk.subarray(0, Math.max(0, dropAfter - sent)));
        stream.destroy();
        return setTimeout(() => res.destroy(), 20);
      }
      sent += chunk.length;
      if (!slow) return res.write(chunk);
      stream.pause();
      res.write(chunk);
      setTimeout(() => stream.resume(), typeof slow === 'number' ? slow : 25);
    });
    stream.on('end', () => res.end());
  });
}

/**
 * A static host for the folder `dir`, mounted at `prefix` (`/` or a sub-path), with the test
 * hooks and optional extra `headers` (e.g. a Content-Security-Policy). Every request is
 * logged in the returned server's `log` (method, path, Range header).
 */
export async function staticHost(dir, { prefix = '/', headers = {}, maxFileBytes = null } = {}) {
  const log = [];
  const host = await listen((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    log.push({ method: req.method, path: urlPath, range: req.headers.range || null });
    if (serveHooks(req, res, headers)) return;
    // `down`: the site is unreachable (the connection is cut); the test hooks still answer.
    if (host.down) return req.socket.destroy();
    // `stall`: requests for matching paths are never answered (held until `unstall()`).
    if (host.stall && host.stall.test(urlPath)) return host.stalled.push(res);
    const dir = host.dir;
    if (!urlPath.startsWith(prefix)) {
      res.writeHead(404, headers);
      return res.end(`not under ${prefix}`);
    }
    const rel = urlPath.slice(prefix.length);
    const file = path.resolve(dir, rel === '' || rel.endsWith('/') ? rel + 'index.html' : rel);
    if (!file.startsWith(dir)) {
      res.writeHead(403, headers);
      return res.end();
    }
    // A host with a per-file size limit (Cloudflare Pages: 25 MiB) refuses larger files.
    if (maxFileBytes !== null && fs.existsSync(file) && fs.statSync(file).size > maxFileBytes) {
      log[log.length - 1].status = 413;
      res.writeHead(413, headers);
      return res.end('file too large for this host');
    }
    sendFile(req, res, file, headers, { hooks: true });
  });
  // `dir` may be switched to another build: the same origin then serves a new release.
  const unstall = () => {
    host.stall = null;
    for (const res of host.stalled.splice(0)) res.socket?.destroy();
  };
  // The worker builds' wasm files the pages asked for since log entry `from`, in order.
  const workerWasm = (from) => log.slice(from).map((r) => r.path.split('/').pop()).filter((f) => /^worker.*\.wasm$/.test(f));
  return Object.assign(host, { log, base: host.url + prefix, dir, down: false, stall: null, stalled: [], unstall, workerWasm });
}

// ---- The Hub mirror ----

// Every request is logged with its method and range; `hubFaults` changes what it serves.
export const hubRequests = [];
export const hubLog = [];
// What the mirror does wrong, per file name: `status` (HTTP code), `noCors` (no
// Access-Control-Allow-Origin), `body` (a Buffer served instead), `truncate` (serve only that
// many bytes, with a matching Content-Length), `flip` (byte offset XORed with 0xFF), `down`
// (every connection cut: the Hub unreachable); `etag`
// and `dropWeightsAfter` (cut the first weights download after N bytes) for the weights.
const NO_FAULTS = () => ({ down: false, etag: null, dropWeightsAfter: null, status: {}, noCors: new Set(), body: {}, truncate: {}, flip: {}, slowMs: 25 });
export const hubFaults = NO_FAULTS();
export function clearFaults() {
  Object.assign(hubFaults, NO_FAULTS());
}

const listings = {};
function treeListing(dir) {
  listings[dir] ||= fs.readdirSync(dir).map((name) => {
    const data = fs.readFileSync(path.join(dir, name));
    const entry = { type: 'file', oid: crypto.createHash('sha1').update(data).digest('hex'), size: data.length, path: name };
    if (/\.(bin|gguf)$/.test(name)) entry.lfs = { oid: crypto.createHash('sha256').update(data).digest('hex'), size: data.length, pointerSize: 134 };
    return entry;
  });
  return listings[dir];
}

/** The Hub mirror's requests since log position `from`, one line: `GET merges.txt, GET pytorch_model.bin bytes=…`. */
export function hubRequestsSince(from) {
  return hubLog.slice(from).map((r) => `${r.method} ${r.path.split('/').pop()}${r.range ? ` ${r.range}` : ''}`).join(', ');
}

/** GET requests of the weights since log position `from` (HEADs do not download). */
export function weightGets(from) {
  return hubLog.slice(from).filter((r) => r.path.endsWith('/pytorch_model.bin') && r.method === 'GET');
}

// The Hub's layout, with its CORS headers; unknown repos and files answer 404 like the Hub.
export function serveHub(req, res) {
  if (hubFaults.down) return req.socket.destroy();
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Content-Length, ETag, Content-Range, Accept-Ranges',
  };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': '*' });
    return res.end();
  }
  const urlPath = new URL(req.url, 'http://x').pathname;
  hubLog.push({ method: req.method, path: urlPath, range: req.headers.range || null });
  // The Hub API's file listing, with the SHA-256 of the LFS weights (checked by the worker).
  const repoDirs = { [TEST_REPO]: fixtures, [SPLIT_REPO]: splitShards };
  const listed = urlPath.match(/^\/api\/models\/(.+)\/tree\/main$/);
  if (listed && repoDirs[listed[1]]) {
    res.writeHead(200, { 'Content-Type': 'application/json', ...cors });
    return res.end(JSON.stringify(treeListing(repoDirs[listed[1]])));
  }
  hubRequests.push(req.url);
  // Plain file hosting, for `model=<URL of a .gguf>`.
  const file = urlPath.match(/^\/files\/([\w.-]+)$/);
  if (file) {
    const found = [variants, splitShards].map((d) => path.join(d, file[1])).find((f) => fs.existsSync(f));
    return sendFile(req, res, found || path.join(variants, file[1]), cors);
  }
  const m = urlPath.match(/^\/(.+)\/resolve\/main\/([^/]+)$/);
  if (m && m[1] === SPLIT_REPO) return sendFile(req, res, path.join(splitShards, m[2]), cors);
  if (!m || m[1] !== TEST_REPO) {
    res.writeHead(404, { 'Content-Type': 'text/plain', ...cors });
    return res.end('Repository not found');
  }
  const name = m[2];
  const headers = hubFaults.noCors.has(name) ? { 'Access-Control-Expose-Headers': cors['Access-Control-Expose-Headers'] } : cors;
  if (hubFaults.status[name]) {
    res.writeHead(hubFaults.status[name], { 'Content-Type': 'text/plain', ...headers });
    return res.end(`injected ${hubFaults.status[name]}`);
  }
  if (name in hubFaults.body || name in hubFaults.truncate || name in hubFaults.flip) {
    let data = name in hubFaults.body ? Buffer.from(hubFaults.body[name]) : fs.readFileSync(path.join(fixtures, name));
    if (name in hubFaults.truncate) data = data.subarray(0, hubFaults.truncate[name]);
    if (name in hubFaults.flip) {
      data = Buffer.from(data);
      data[hubFaults.flip[name]] ^= 0xff;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length, 'Cache-Control': 'no-store', ...headers });
    return res.end(req.method === 'HEAD' ? undefined : data);
  }
  const weights = name === 'pytorch_model.bin';
  let dropAfter = null;
  if (weights && hubFaults.dropWeightsAfter !== null && !req.headers.range && req.method === 'GET') {
    dropAfter = hubFaults.dropWeightsAfter;
    hubFaults.dropWeightsAfter = null; // once
  }
  sendFile(req, res, path.join(fixtures, name), headers, { slow: weights && hubFaults.slowMs, dropAfter, etag: weights ? hubFaults.etag : null });
}
