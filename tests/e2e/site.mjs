// Self-hosting checks of the e2e suite: a split GGUF (llama.cpp's shard layout) loads from its
// first shard and is stored as one model; a site made with scripts/site-model.sh, served by a
// host that refuses files over 25 MiB (Cloudflare Pages' limit), starts with its own default
// model and chats like the native CLI on the same files; a missing shard is named.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertEq } from './harness.mjs';
import { dist, hubLog, root, SPLIT_REPO, staticHost } from './servers.mjs';

const HOST_LIMIT = 25 * 1024 * 1024;
const SPLIT_FIRST = 'tiny-q8_0-00001-of-00003.gguf';

/** The `dialogpt` CLI the tests run (cargo test builds it); built if missing. */
function dialogpt() {
  const bin = path.join(root, 'target/debug/dialogpt');
  if (!fs.existsSync(bin)) execFileSync('cargo', ['build', '--bin', 'dialogpt'], { cwd: root, stdio: 'inherit' });
  return bin;
}

/** A copy of dist/ with the tiny model as its default, in shards of at most `split`. */
function makeSite(split) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialogpt-site-'));
  fs.cpSync(dist, dir, { recursive: true });
  const out = execFileSync(path.join(root, 'scripts/site-model.sh'), [dir, '--model', path.join(root, 'tests/fixtures/tiny-dialogpt'), '--quant', 'q4_k', '--split-max-size', split], {
    cwd: root,
    env: { ...process.env, DIALOGPT_BIN: dialogpt() },
    encoding: 'utf8',
  });
  return { dir, log: out.trim() };
}

/** Every file of `dir` with its size, largest first. */
function sizes(dir) {
  return fs
    .readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile())
    .map((f) => ({ file: path.relative(dir, f), size: fs.statSync(f).size }))
    .sort((a, b) => b.size - a.size);
}

/** The first reply of the native CLI to `text` from the model at `model` (greedy, 12 tokens). */
function nativeReply(model, text) {
  const script = path.join(os.tmpdir(), `dialogpt-site-script-${process.pid}.txt`);
  fs.writeFileSync(script, `${text}\n`);
  const out = execFileSync(dialogpt(), ['chat', '--model', model, '--script', script, '--json', '--max-new-tokens', '12'], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n')[0]).reply.trim();
}

export async function siteChecks({ suite, tab, app, base, hub, first, singleReply }) {
  const check = suite.check.bind(suite);
  const splitUrl = `${hub.url}/files/${SPLIT_FIRST}`;

  await check("a split GGUF (gguf-py's 3 shards) loads from its first shard with one progress bar; reply equals the single file's; stored as one model", async () => {
    const from = hubLog.length;
    await app.goto(base + `?model=${encodeURIComponent(splitUrl)}&max_new_tokens=12&storage=auto`);
    await app.ready();
    const gets = hubLog.slice(from).filter((r) => r.method === 'GET' && /-of-00003\.gguf$/.test(r.path)).map((r) => r.path.split('/').pop());
    assertEq(gets.join(','), [1, 2, 3].map((i) => `tiny-q8_0-0000${i}-of-00003.gguf`).join(','), 'shards fetched, in order');
    await app.newChat();
    await app.send(first);
    const reply = await app.waitReply(0);
    assertEq(reply.text, singleReply, 'reply from the shards (the single .gguf of the same weights is the oracle)');
    const stored = await app.stored();
    const mine = stored.filter((m) => m.name.includes(SPLIT_FIRST));
    assertEq(mine.length, 1, `stored entries for the split model (${JSON.stringify(stored)})`);
    const again = hubLog.length;
    await app.goto(base + `?model=${encodeURIComponent(splitUrl)}&max_new_tokens=12&storage=auto`);
    await app.ready();
    const shardGets = hubLog.slice(again).filter((r) => r.method === 'GET' && /\.gguf$/.test(r.path));
    assertEq(shardGets.length, 0, 'shard downloads on the second visit');
    console.log(`       ${await app.status()} -> ${JSON.stringify(reply.text)}`);
  });

  await check('a Hub repo holding only a split GGUF loads by its repo id; same reply', async () => {
    const from = hubLog.length;
    await app.goto(base + `?model=${SPLIT_REPO}&hub=${encodeURIComponent(hub.url)}&max_new_tokens=12&storage=none`);
    await app.ready();
    const gets = hubLog.slice(from).filter((r) => r.method === 'GET' && r.path.startsWith(`/${SPLIT_REPO}/`)).map((r) => r.path.split('/').pop());
    assertEq(gets.filter((f) => f.endsWith('.gguf')).join(','), [1, 2, 3].map((i) => `tiny-q8_0-0000${i}-of-00003.gguf`).join(','), 'shards fetched');
    await app.newChat();
    await app.send(first);
    assertEq((await app.waitReply(0)).text, singleReply, 'reply');
  });

  await check('a later shard given as the model is refused, naming the first shard', async () => {
    await app.goto(base + `?model=${encodeURIComponent(`${hub.url}/files/tiny-q8_0-00002-of-00003.gguf`)}`);
    assertEq(await app.settled(), 'error', 'status');
    const alert = await app.alert();
    if (!/shard 2 of 3/.test(alert) || !alert.includes(SPLIT_FIRST)) throw new Error(`unclear error: ${alert}`);
    console.log(`       ${JSON.stringify(alert)}`);
  });

  let site = null;
  try {
    site = makeSite('2M');
    const host = await staticHost(site.dir, { maxFileBytes: HOST_LIMIT });
    try {
      await check('a site made by scripts/site-model.sh (q4_k in 2 MB shards), on a host refusing files over 25 MiB, starts with its default model and chats like the CLI', async () => {
        console.log(`       ${site.log.split('\n').join('\n       ')}`);
        const files = sizes(site.dir);
        if (files[0].size > HOST_LIMIT) throw new Error(`${files[0].file} is ${files[0].size} bytes: over the host's limit`);
        const shards = files.filter((f) => /^models\/.*-of-\d{5}\.gguf$/.test(f.file));
        if (shards.length < 2) throw new Error(`expected several shards: ${JSON.stringify(shards)}`);
        const over = shards.filter((f) => f.size > 2_000_000);
        if (over.length) throw new Error(`shards over 2 MB: ${JSON.stringify(over)}`);
        const config = JSON.parse(fs.readFileSync(path.join(site.dir, 'dialogpt-site.json'), 'utf8'));
        await app.goto(host.base + '?max_new_tokens=12');
        await app.ready();
        // A resumed download asks for a range; whole requests are one per shard.
        const requested = host.log.filter((r) => r.method === 'GET' && r.path.startsWith('/models/'));
        const whole = requested.filter((r) => !r.range);
        assertEq(whole.length, shards.length, `shards requested (${requested.map((r) => `${r.path} ${r.range || ''}`).join(', ')})`);
        await app.newChat();
        await app.send(first);
        const reply = await app.waitReply(0);
        const native = nativeReply(path.join(site.dir, config.model), first);
        assertEq(reply.text, native, 'reply (the native CLI on the same shards is the oracle)');
        const refused = host.log.filter((r) => r.status === 413);
        assertEq(refused.length, 0, 'files the host refused');
        console.log(`       ${shards.length} shards, largest file ${files[0].file} ${(files[0].size / 1e6).toFixed(1)} MB; ${await app.status()} -> ${JSON.stringify(reply.text)}`);
      });

      await check('the URL still wins over the site default; a missing shard is named in the error', async () => {
        const config = JSON.parse(fs.readFileSync(path.join(site.dir, 'dialogpt-site.json'), 'utf8'));
        const second = config.model.replace('-00001-of-', '-00002-of-');
        fs.renameSync(path.join(site.dir, second), path.join(site.dir, `${second}.away`));
        // storage=none: the copy stored by the check above would load without a request.
        await app.goto(host.base + `?model=${encodeURIComponent(config.model)}&storage=none`);
        assertEq(await app.settled(), 'error', 'status');
        const alert = await app.alert();
        if (!alert.includes(path.basename(second)) || !/404/.test(alert)) throw new Error(`the missing shard is not named: ${alert}`);
        fs.renameSync(path.join(site.dir, `${second}.away`), path.join(site.dir, second));
        console.log(`       ${JSON.stringify(alert)}`);
      });
    } finally {
      host.server.close();
    }
  } catch (e) {
    // makeSite failed: the checks above never ran; say so as a failure.
    if (!site) await check('scripts/site-model.sh makes a site', async () => { throw e; });
    else throw e;
  } finally {
    if (site) fs.rmSync(site.dir, { recursive: true, force: true });
  }
}
