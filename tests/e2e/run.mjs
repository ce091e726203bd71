#!/usr/bin/env node
// End-to-end test of the web app in one browser engine (`--browser chromium|firefox|webkit`),
// with no network but 127.0.0.1:
// - serves dist/ (scripts/build-web.sh) and the sub-path build with a tiny static server;
// - mirrors the Hub's file layout (/{repo}/resolve/main/{file}) for tests/fixtures/tiny-dialogpt
//   on another port, with CORS headers, ETags and byte ranges as the Hub sends them;
// - loads the tiny model through the URL parameters, plays the first greedy reference
//   conversation of tests/fixtures/reference/conversations.json and compares every reply
//   with transformers' exactly; then the app's features one by one (see README "Tests").
// Faults and hostile input are in faults.mjs. Screenshots go to tests/e2e/artifacts/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { button, ChatPage, field, MESSAGE } from './app.mjs';
import { engineFromArgs, openTab } from './browsers/index.mjs';
import { sleep } from './browsers/tab.mjs';
import { artifacts, assertEq, reference, Suite } from './harness.mjs';
import { dist, examples, root, hubFaults, hubLog, hubRequests, hubRequestsSince, listen, serveHub, staticHost, SUB, subDist, TEST_REPO, weightGets } from './servers.mjs';
import { storageChecks } from './storage.mjs';
import { accessibilityChecks } from './a11y.mjs';
import { siteChecks } from './site.mjs';
import { offlineChecks } from './offline.mjs';
import { threadsChecks } from './threads.mjs';

async function main() {
  const engine = engineFromArgs();
  for (const [dir, how] of [[dist, 'scripts/build-web.sh'], [subDist, 'scripts/build-web.sh --public-url /sub/path/ --dist target/dist-subpath']]) {
    if (!fs.existsSync(path.join(dir, 'index.html'))) throw new Error(`${dir} is missing: run ${how} first`);
  }
  const conversation = reference().results.greedy[0];
  // The first turn of another reference conversation: what an edited first message gets.
  const other = reference().results.greedy[1][0];
  const web = await staticHost(dist);
  const sub = await staticHost(subDist, { prefix: SUB });
  const ex = await staticHost(examples);
  const hub = await listen(serveHub);
  const base = web.base;
  let tab = await openTab(engine);
  const app = new ChatPage(tab);
  const suite = new Suite('e2e', tab);
  const check = suite.check.bind(suite);
  const shot = (name) => tab.screenshot(path.join(artifacts, `${engine}-${name}`));
  const query = `?model=${TEST_REPO}&hub=${encodeURIComponent(hub.url)}&quant=f32&max_new_tokens=12`;
  const firstReply = conversation[0].reply.trim();

  try {
    await check('the model in the URL loads through the Hub mirror and the page says Ready', async () => {
      await app.goto(base + query);
      // The weights arrive slowly (see sendFile): the progress text must show them.
      const progress = await tab.waitFor(() => {
        const t = document.querySelector('.progress-text')?.textContent || '';
        return /Downloading pytorch_model\.bin (?!0\.0 )[\d.]+ \/ 6\.8 MB/.test(t) && t;
      }, null, { interval: 20, what: 'download progress' });
      await shot('00-loading.png');
      console.log(`       "${progress.trim()}"`);
      // The picker says what the model downloads and keeps; once loaded, that it is stored,
      // at the size it announced.
      const announced = await tab.text('.picker .sizes');
      const keeps = /^Download [\d.]+ MB · keeps ([\d.]+ MB) on this device$/.exec(announced);
      if (!keeps) throw new Error(`picker sizes while loading: "${announced}"`);
      const t0 = Date.now();
      await app.ready();
      suite.note('cold_load_status', await app.status());
      await shot('01-ready.png');
      const files = [...new Set(hubRequests.map((u) => u.split('/').pop()))].sort();
      assertEq(files.join(','), 'config.json,merges.txt,pytorch_model.bin,vocab.json', 'files fetched from the hub');
      const stored = `Stored on this device (${keeps[1]}): it opens without the network`;
      await tab.waitFor((want) => document.querySelector('.picker .sizes')?.textContent === want, stored, { what: `the picker to say "${stored}"` });
      const option = await tab.evaluate(() => document.querySelector('select[aria-label=Quantization]').selectedOptions[0].textContent);
      assertEq(option, `f32 · ${keeps[1]} · on this device`, 'the quantization option of the stored model');
      console.log(`       picker: "${announced}", then "${stored}"`);
      console.log(`       ${await app.status()} (${Date.now() - t0} ms after the progress was seen)`);
    });

    await check('after the model is ready the Message box has the focus', async () => {
      const focused = await tab.evaluate(() => document.activeElement?.getAttribute('aria-label'));
      assertEq(focused, 'Message', 'focused element');
    });

    await check('an empty message is refused with a visible hint', async () => {
      await tab.clickOn(button('Send'));
      const hint = await tab.text('.hint');
      if (!/empty/i.test(hint)) throw new Error(`no hint shown (got ${JSON.stringify(hint)})`);
      assertEq(await tab.count('[data-author]'), 0, 'messages after an empty send');
    });

    await check(`greedy conversation: ${conversation.length} replies equal transformers' exactly, across a page reload`, async () => {
      const watch = () => tab.evaluate(() => {
        window.__seen = new Set();
        new MutationObserver(() => {
          const b = [...document.querySelectorAll('[data-author="bot"]')].pop();
          if (b && b.dataset.state === 'streaming') window.__seen.add(b.textContent);
        }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      await watch();
      let partial = 0;
      for (const [i, turn] of conversation.entries()) {
        if (i === conversation.length - 1) {
          // Reload before the last turn: the conversation and its token history come back
          // from localStorage, and the reply still equals the reference.
          partial += await tab.evaluate(() => window.__seen.size);
          await tab.reload();
          await app.ready();
          const shown = (await tab.texts('[data-author="bot"] .text')).map((t) => t.trim());
          assertEq(shown.join('|'), conversation.slice(0, i).map((t) => t.reply.trim()).join('|'), 'replies shown after the reload');
          await watch();
        }
        await app.send(turn.user);
        const reply = await app.waitReply(i);
        assertEq(reply.state, 'done', `turn ${i + 1} state`);
        assertEq(reply.text, turn.reply.trim(), `turn ${i + 1} reply`);
        console.log(`       turn ${i + 1}: ${JSON.stringify(turn.user)} -> ${JSON.stringify(reply.text)}`);
      }
      await shot('02-conversation.png');
      await tab.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
      await shot('02-conversation-dark.png');
      await tab.evaluate(() => (document.documentElement.dataset.theme = 'auto'));
      partial += await tab.evaluate(() => window.__seen.size);
      if (partial < 2) throw new Error(`the replies did not stream (${partial} partial texts seen)`);
      console.log(`       ${partial} partial reply texts seen while streaming`);
    });

    await check('data-author hooks, context meter, speed, and the live region announces the reply', async () => {
      const authors = await tab.evaluate(() => [...document.querySelectorAll('[data-author]')].map((e) => e.dataset.author));
      assertEq(authors.join(','), conversation.map(() => 'user,bot').join(','), 'data-author order');
      const users = await tab.texts('[data-author="user"] .text');
      assertEq(users.join('|'), conversation.map((t) => t.user).join('|'), 'user bubbles');
      const last = conversation[conversation.length - 1];
      const used = last.input_ids.length + last.reply_ids.length;
      assertEq(await app.meter(), `${used} / 256 tokens`, 'context meter');
      const speed = await app.speed();
      if (!/tok\/s · first token \d+ ms/.test(speed)) throw new Error(`no tokens/s and first-token time shown (got ${JSON.stringify(speed)})`);
      assertEq(await tab.text('[aria-live]'), `Bot: ${last.reply.trim()}`, 'live region');
      console.log(`       meter "${used} / 256 tokens", speed "${speed}"`);
    });

    await check('export as JSON and Markdown, New chat, import the JSON: messages and history come back', async () => {
      // One file after the other, as a user saves them; a failure then names the file that did not come.
      const before = await tab.evaluate(() => window.__e2e.downloads.length);
      await tab.clickOn(button('Export JSON'));
      const json = await tab.waitFor((n) => window.__e2e.downloads[n] || null, before, { what: 'the JSON download' });
      await tab.clickOn(button('Export Markdown'));
      const md = await tab.waitFor((n) => window.__e2e.downloads[n + 1] || null, before, { what: 'the Markdown download' });
      const saved = JSON.parse(json.text);
      const last = conversation[conversation.length - 1];
      assertEq(saved.history.join(','), [...last.input_ids, ...last.reply_ids].join(','), 'exported token history');
      assertEq(saved.messages.length, conversation.length * 2, 'exported messages');
      if (!/\.json$/.test(json.name)) throw new Error(`bad JSON file name ${json.name}`);
      if (!/\.md$/.test(md.name) || !md.text.includes(`**You:** ${conversation[0].user}`)) throw new Error(`bad Markdown ${md.name}:\n${md.text}`);
      const meter = await app.meter();
      await app.newChat();
      const file = path.join(os.tmpdir(), `${engine}-${json.name}`);
      fs.writeFileSync(file, json.text);
      await tab.setFiles(await tab.find(field('Import chat')), file);
      await tab.waitFor((n) => document.querySelectorAll('[data-author]').length === n, saved.messages.length, { what: 'the imported messages' });
      assertEq(await app.meter(), meter, 'context meter after import');
      // A file that is not a chat is refused with a reason; the conversation stays.
      fs.writeFileSync(file, '{"hello": 1}');
      await tab.setFiles(await tab.find(field('Import chat')), file);
      await tab.waitFor(() => /Could not import/.test(document.querySelector('.hint')?.textContent || ''), null, { what: 'the import error' });
      assertEq(await tab.count('[data-author]'), saved.messages.length, 'messages after a bad import');
      console.log(`       ${json.name} (${json.text.length} B), ${md.name} (${md.text.length} B), re-imported`);
    });

    await check('Copy puts a message on the clipboard', async () => {
      if (tab.facilities.clipboardRead) {
        await tab.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: web.url });
      }
      await tab.clickOn(button('Copy message 2'));
      await tab.waitFor(() => [...document.querySelectorAll('.msg .tool')].some((b) => b.textContent === 'Copied'), null, { what: '"Copied"' });
      assertEq((await app.clipboardWrites()).at(-1), firstReply, 'text given to the clipboard');
      if (tab.facilities.clipboardRead) {
        assertEq(await tab.evaluate(() => navigator.clipboard.readText()), firstReply, 'clipboard read back');
      } else {
        console.log(`       ${engine}: the clipboard is not read back (reading needs a user prompt here); the write succeeded`);
      }
    });

    await check('New chat clears messages and history; the first reply comes again', async () => {
      await app.newChat();
      assertEq(await app.meter(), '0 / 256 tokens', 'context meter');
      await app.say(conversation[0].user); // Enter sends
      assertEq((await app.waitReply(0)).text, firstReply, 'reply after New chat');
    });

    await check('Regenerate: greedy gives the same reply again, sampling a new one; the history stays consistent', async () => {
      const historyOf = () => tab.evaluate(() => JSON.parse(localStorage.getItem('dialogpt-web.chat') || '{}').history || []);
      const before = await historyOf();
      await tab.clickOn(button('Regenerate'));
      const again = await app.waitReply(0);
      assertEq(again.text, firstReply, 'greedy reply regenerated');
      assertEq(await app.botCount(), 1, 'bot bubbles after Regenerate');
      assertEq((await historyOf()).join(','), before.join(','), 'token history after a greedy Regenerate');
      await app.setting('Temperature', 1.5);
      await app.setting('Seed', 11);
      await tab.clickOn(button('Regenerate'));
      const sampled = await app.waitReply(0);
      if (sampled.text === firstReply) throw new Error('a sampled Regenerate gave the greedy reply');
      await tab.clickOn(button('Reset to defaults'));
      await app.closePanel('settings');
      const after = await historyOf();
      assertEq(after.slice(0, conversation[0].input_ids.length).join(','), conversation[0].input_ids.join(','), 'the user turn kept in the history');
      // The regenerated reply survives a reload, and the next turn continues from it.
      await tab.reload();
      await app.ready();
      assertEq((await app.waitReply(0)).text, sampled.text, 'regenerated reply after a reload');
      console.log(`       greedy again: ${JSON.stringify(again.text)}; sampled: ${JSON.stringify(sampled.text)}`);
    });

    await check('Edit the last message: its reply is replaced, the history follows', async () => {
      await app.newChat();
      await app.say(conversation[1].user);
      await app.waitReply(0);
      await tab.clickOn(button('Edit message 1'));
      assertEq(await tab.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Message', 'focus after Edit');
      assertEq(await tab.evaluate(() => document.querySelector('textarea[aria-label=Message]').value), conversation[1].user, 'draft after Edit');
      await app.say(conversation[0].user);
      const r = await app.waitReply(0);
      assertEq(r.text, firstReply, 'reply to the edited message');
      assertEq(await app.userCount(), 1, 'user messages after the edit');
      assertEq((await tab.texts('[data-author="user"] .text'))[0], conversation[0].user, 'the edited message');
      const used = conversation[0].input_ids.length + conversation[0].reply_ids.length;
      assertEq(await app.meter(), `${used} / 256 tokens`, 'context meter after the edit');
    });

    await check('Settings: a bad value is refused; seeded sampling repeats itself; reset gives greedy back', async () => {
      await app.setting('Top-p', 2);
      const alert = await tab.text('details.settings [role=alert]');
      if (!/top_p/.test(alert)) throw new Error(`no error for top_p=2: ${alert}`);
      await app.setting('Top-p', 0.9);
      await app.setting('Temperature', 1.5);
      if (tab.facilities.blurEvents) {
        // Leaving the field applies it too.
        await tab.fill(field('Seed'), '7');
        await tab.pressOn(field('Seed'), 'Tab');
        await tab.waitFor(() => document.activeElement?.id !== 'setting-6', null, { what: 'the focus to leave Seed' });
      } else {
        await app.setting('Seed', 7);
        console.log(`       ${engine}: applied with Enter (a headless Firefox window gets no blur event)`);
      }
      assertEq(await tab.text('details.settings .summary-note'), 'sampling', 'mode');
      const sampled = [];
      for (let i = 0; i < 2; i++) {
        await app.newChat();
        await app.say(conversation[0].user);
        sampled.push((await app.waitReply(0)).text);
      }
      assertEq(sampled[1], sampled[0], 'two replies with the same seed');
      if (sampled[0] === firstReply) throw new Error('sampling at temperature 1.5 gave the greedy reply');
      await tab.clickOn(button('Reset to defaults'));
      assertEq(await tab.text('details.settings .summary-note'), 'greedy', 'mode after reset');
      await app.newChat();
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'greedy reply after reset');
      await app.closePanel('settings');
      console.log(`       sampled twice with seed 7: ${JSON.stringify(sampled[0])}`);
    });

    await check('Stop ends a long reply early (measured in the page); the next turn still works', async () => {
      // Long replies: the context window (256) bounds them, the tiny model never says eos.
      // Default quantization (q8_0): the Hub's float weights are quantized in the worker.
      await app.goto(base + query.replace('&quant=f32', '').replace('max_new_tokens=12', 'max_new_tokens=1000'));
      await app.ready();
      if (!/\(q8_0/.test(await app.status())) throw new Error(`expected q8_0 weights: ${await app.status()}`);
      await tab.evaluate(() => window.__e2e.longTasks?.splice(0));
      // Three Stops, each on a fresh reply: the median is what a user feels and must be under
      // 200 ms; one slow Stop on a busy machine is tolerated up to 1 s, a Stop that waits for
      // the reply to end is not.
      const times = [];
      for (let round = 0; round < 3; round++) {
        await app.newChat(); // the conversation of the earlier test was kept across the reload
        await app.send(conversation[0].user);
        await app.replyStarted(0, 40);
        // From the click to the bubble saying "stopped", timed inside the page; a reply that
        // ends by itself first, or a Stop that never lands, resolves with the reason instead.
        const stop = await tab.evaluate(() => new Promise((resolve) => {
          const bubble = document.querySelector('[data-author="bot"]');
          const t0 = performance.now();
          const timer = setTimeout(() => resolve({ error: `still "${bubble.dataset.state}" 10 s after Stop` }), 10_000);
          const obs = new MutationObserver(() => {
            if (bubble.dataset.state === 'streaming') return;
            obs.disconnect();
            clearTimeout(timer);
            resolve(bubble.dataset.state === 'stopped' ? { ms: performance.now() - t0 } : { error: `ended as ${bubble.dataset.state}` });
          });
          obs.observe(bubble, { attributes: true });
          const stopButton = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Stop');
          if (!stopButton) return resolve({ error: 'no Stop button while streaming' });
          stopButton.click();
        }));
        if (stop.error) throw new Error(stop.error);
        const reply = await app.waitReply(0);
        assertEq(reply.state, 'stopped', 'state after Stop');
        if (!reply.text) throw new Error('the partial reply is empty');
        times.push(stop.ms);
        console.log(`       Stop took ${stop.ms.toFixed(1)} ms; stopped after ${reply.text.split(' ').length} words, meter "${await app.meter()}"`);
      }
      const median = [...times].sort((a, b) => a - b)[1];
      suite.note('stop_ms', times.map((t) => +t.toFixed(1)));
      if (median > 200) throw new Error(`Stop took ${times.map((t) => t.toFixed(0)).join(', ')} ms: median over the 200 ms limit`);
      if (Math.max(...times) > 1000) throw new Error(`a Stop took ${Math.max(...times).toFixed(0)} ms (limit 1 s)`);
      await app.send(conversation[1].user);
      const next = await app.waitReply(1);
      assertEq(next.state === 'done' || next.state === 'stopped', true, 'the turn after Stop finishes');
    });

    await check('no long task (> 50 ms) on the page while a reply streams', async () => {
      const long = await tab.evaluate(() => window.__e2e.longTasks);
      if (long.some((d) => d > 50)) throw new Error(`long tasks on the page while generating: ${long.map((d) => d.toFixed(0)).join(', ')} ms`);
      console.log(`       long tasks reported: ${long.length}`);
    }, { needs: { facility: 'longTasks', why: 'the Long Tasks API (PerformanceObserver "longtask") exists only in Chromium' } });

    await check('a reload loads the converted q8_0 model from browser storage: no weight request, replies', async () => {
      const from = hubLog.length;
      await app.goto(base + query.replace('&quant=f32', ''));
      await app.ready();
      const status = await app.status();
      // A HEAD (is the stored copy still current?) is fine; no weight bytes may be fetched.
      assertEq(weightGets(from).length, 0, 'GET requests for pytorch_model.bin during the stored load');
      if (!/from (cache|storage)/.test(status)) throw new Error(`status does not say it came from storage: ${status}`);
      suite.note('warm_load_status', status);
      console.log(`       "${status}"`);
      await app.newChat();
      await app.send(conversation[0].user);
      const reply = await app.waitReply(0);
      assertEq(reply.state, 'done', 'state of the greedy reply after a stored load');
      if (!reply.text) throw new Error('empty reply after a stored load');
    });

    // Run again after a WebKit wasm trap (harness.mjs), this check finds the f32 entry deleted
    // by its first run, and needs an ETag newer than the one that run stored.
    let f32Deleted = false;
    let etagVersion = 0;
    await check('Stored models lists the entries; Delete removes one; a changed ETag upstream replaces a stale copy', async () => {
      const listed = await app.stored();
      const names = listed.map((m) => m.name);
      for (const q of f32Deleted ? ['q8_0'] : ['f32', 'q8_0']) {
        if (!names.includes(`${TEST_REPO} (${q})`)) throw new Error(`no ${q} entry in ${JSON.stringify(names)}`);
      }
      // The picker marks the stored quantizations with the size the list gives.
      const q8 = await tab.evaluate(() => [...document.querySelectorAll('select[aria-label=Quantization] option')].find((o) => o.value === 'q8_0').textContent);
      assertEq(q8, `q8_0 · ${listed.find((m) => m.name === `${TEST_REPO} (q8_0)`).size} · on this device`, 'the stored q8_0 in the picker');
      if (!f32Deleted) {
        await tab.clickOn(button(`Delete ${TEST_REPO} (f32)`));
        await tab.waitFor((n) => ![...document.querySelectorAll('.stored-model .name')].some((e) => e.textContent === n), `${TEST_REPO} (f32)`, { what: 'the entry to go' });
        f32Deleted = true;
      }
      // The weights change upstream (new ETag): the stored q8_0 copy is stale and replaced.
      hubFaults.etag = `"version-${++etagVersion}"`;
      let from = hubLog.length;
      await app.goto(base + query.replace('&quant=f32', ''));
      await app.ready();
      let status = await app.status();
      if (weightGets(from).length !== 1 || !/changed on the server/.test(status)) {
        // Two loads (a reload, a replaced worker) or one that resumed: the requests and the page tell which.
        const requests = hubRequestsSince(from);
        const page = await tab.evaluate(() => `navigation ${performance.getEntriesByType('navigation')[0]?.type}, ${window.__e2e.workers.length} worker(s), coi ${document.documentElement.dataset.coi}`);
        throw new Error(`stale copy not replaced (${weightGets(from).length} GETs): ${status}\n       requests: ${requests}\n       page: ${page}`);
      }
      from = hubLog.length;
      await tab.reload();
      await app.ready();
      status = await app.status();
      if (weightGets(from).length !== 0 || !/from (cache|storage)/.test(status)) throw new Error(`the new copy was not stored (${weightGets(from).length} GETs): ${status}`);
    });

    await check('Cancel stops a download, nothing is stored; "Load again" loads it', async () => {
      hubFaults.slowMs = 150; // the whole download takes about 4 s: time to press Cancel
      await app.goto(base + query.replace('quant=f32', 'quant=q4_k'));
      await tab.waitFor(() => /Downloading pytorch_model\.bin (?!0\.0 )[\d.]+ \//.test(document.querySelector('.progress-text')?.textContent || ''), null, { interval: 20, what: 'download progress' });
      await tab.clickOn(button('Cancel'));
      await tab.waitFor(() => document.querySelector('.app').dataset.status === 'cancelled', null, { what: 'cancelled' });
      await sleep(300); // a download that kept going would finish and store by now
      const names = (await app.stored()).map((m) => m.name);
      if (names.some((n) => n.includes('(q4_k)'))) throw new Error(`a cancelled download was stored: ${names}`);
      hubFaults.slowMs = 25;
      await tab.clickOn(button('Load again'));
      await app.ready();
    });

    await check('while a model loads, the conversation kept from the last visit is readable and the draft editable', async () => {
      await app.goto(base + query);
      await app.ready();
      await app.newChat();
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'reply before the reload');
      // A slow download that is never stored (storage=none): several seconds of loading.
      hubFaults.slowMs = 150;
      try {
        await app.goto(base + query + '&storage=none');
        await tab.waitFor(() => /Downloading/.test(document.querySelector('.progress-text')?.textContent || ''), null, { interval: 20, what: 'the download' });
        const shown = (await tab.texts('[data-author] .text')).map((t) => t.trim());
        assertEq(shown.join('|'), [conversation[0].user, firstReply].join('|'), 'the conversation shown while loading');
        const draft = 'typed while the model loads';
        await tab.fill(MESSAGE, draft);
        const status = await tab.evaluate(() => document.querySelector('.app').dataset.status);
        assertEq(status, 'loading', 'still loading after typing');
        await app.ready();
        assertEq(await tab.evaluate(() => document.querySelector('textarea[aria-label=Message]').value), draft, 'the draft once ready');
      } finally {
        hubFaults.slowMs = 25;
      }
    });

    await check('the ready line says where the load time went; the same timings are on the page root for scripts', async () => {
      const timings = async () => JSON.parse(await tab.evaluate(() => document.documentElement.dataset.loadTimings));
      await app.goto(base + query + '&storage=none');
      await app.ready();
      let t = await timings();
      // Steps are there even when they took less than the clock resolves (coarse in some engines).
      const has = (t, steps) => steps.every((k) => typeof t[k] === 'number' && t[k] >= 0) && t.ms > 0;
      if (t.from !== 'network' || !has(t, ['download', 'convert', 'build'])) throw new Error(`download timings: ${JSON.stringify(t)}`);
      await app.goto(base + query);
      await app.ready();
      t = await timings();
      const status = await app.status();
      if (t.from === 'network' || !has(t, ['open', 'read', 'verify', 'convert', 'build', 'check'])) throw new Error(`stored-model timings: ${JSON.stringify(t)}`);
      // What the steps add up to cannot exceed the whole (they do not overlap, bar the check).
      const sum = Object.entries(t).filter(([k, v]) => typeof v === 'number' && k !== 'ms').reduce((a, [, v]) => a + v, 0);
      if (sum > t.ms + 1) throw new Error(`steps add up to ${sum} ms of ${t.ms} ms: ${JSON.stringify(t)}`);
      const listed = Object.entries(t).some(([k, v]) => k !== 'ms' && typeof v === 'number' && v >= 5);
      if (listed && !/loaded from storage in [\d.]+ s \((\w+ [\d.]+( · )?)+ s\)/.test(status)) throw new Error(`no steps in the ready line: ${status}`);
      console.log(`       ${status.replace(/^.*?loaded/, 'loaded')}`);
    });

    await check('a connection cut mid-download resumes with an HTTP Range request; replies are exact', async () => {
      hubFaults.dropWeightsAfter = 3_000_000;
      const from = hubLog.length;
      await app.goto(base + query.replace('quant=f32', 'quant=f16'));
      await app.ready();
      const ranged = hubLog.slice(from).filter((r) => r.path.endsWith('/pytorch_model.bin') && r.range);
      if (ranged.length !== 1 || !/^bytes=[1-9]\d*-$/.test(ranged[0].range)) throw new Error(`no resume: ${JSON.stringify(ranged)}`);
      await app.newChat();
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'reply after a resumed download');
      console.log(`       resumed with "Range: ${ranged[0].range}"`);
    });

    await check('theme=dark, compact=1 and greeting= shape the page; the greeting is not in the history', async () => {
      const greeting = 'Hello! I run in your browser.';
      await app.goto(base + query + `&theme=dark&compact=1&greeting=${encodeURIComponent(greeting)}`);
      await app.ready();
      assertEq(await tab.attr('html', 'data-theme'), 'dark', 'data-theme');
      assertEq(await tab.count('header.top'), 0, 'header in compact mode');
      assertEq(await tab.text('[data-greeting] .text'), greeting, 'greeting');
      await app.newChat();
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'first reply with a greeting shown');
    });

    await check('a phone-sized screen (390×844): no horizontal scrolling, everything reachable', async () => {
      const [w, h] = await tab.setViewport(390, 844);
      try {
        for (const [name, url] of [['chat', base + query], ['compact', base + query + '&compact=1&theme=dark'], ['picker', base]]) {
          await app.goto(url);
          if (name !== 'picker') await app.ready();
          const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          await shot(`04-phone-${name}.png`);
          if (overflow > 0) throw new Error(`${name}: the page scrolls sideways by ${overflow} px at ${w}×${h}`);
        }
        console.log(`       viewport ${w}×${h}: no sideways scrolling (screenshots ${engine}-04-phone-*.png)`);
      } finally {
        await tab.setViewport(960, 720);
      }
    });

    await check('the picker shows download and stored sizes of the DialoGPT models without asking the network, and suggests one for the device', async () => {
      const from = hubLog.length;
      await app.goto(base);
      await tab.find(button('Load'));
      const picked = await tab.evaluate(() => [document.querySelector('select[aria-label=Model]').value, document.querySelector('select[aria-label=Quantization]').value]);
      assertEq(picked.join(' '), 'microsoft/DialoGPT-medium q8_0', 'preselected on a desktop');
      await tab.waitFor(() => /^Download/.test(document.querySelector('.picker .sizes')?.textContent || ''), null, { what: 'the sizes' });
      assertEq(await tab.text('.picker .sizes'), 'Download 865 MB · keeps 383 MB on this device', 'medium q8_0 sizes');
      const options = await tab.evaluate(() => [...document.querySelectorAll('select[aria-label=Quantization] option')].map((o) => o.textContent));
      assertEq(options.join(', '), 'q8_0 · 383 MB, q4_k · 219 MB, f16 · 712 MB, f32 · 1421 MB', 'stored size per quantization');
      await tab.evaluate(() => {
        const s = document.querySelector('select[aria-label=Model]');
        s.value = 'microsoft/DialoGPT-small';
        s.dispatchEvent(new Event('change', { bubbles: true }));
      });
      await tab.waitFor(() => /^Download 353 MB/.test(document.querySelector('.picker .sizes')?.textContent || ''), null, { what: 'the sizes of small' });
      assertEq(hubLog.length, from, 'requests to the Hub for the sizes of DialoGPT models');
      if (!/medium at q8_0/.test(await tab.text('.picker .suggestion'))) throw new Error(`suggestion: ${await tab.text('.picker .suggestion')}`);
      console.log(`       ${await tab.text('.picker .suggestion')}`);
    });

    await check('on a phone (an iPhone user agent) the picker suggests DialoGPT small at q4_k and says why', async () => {
      const session = await tab.cdp();
      const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';
      await session.send('Emulation.setUserAgentOverride', { userAgent: iphone });
      try {
        await app.goto(base);
        await tab.find(button('Load'));
        const picked = await tab.evaluate(() => [document.querySelector('select[aria-label=Model]').value, document.querySelector('select[aria-label=Quantization]').value]);
        assertEq(picked.join(' '), 'microsoft/DialoGPT-small q4_k', 'preselected on a phone');
        const why = await tab.text('.picker .suggestion');
        if (!/small at q4_k/.test(why) || !/1\.5 GB/.test(why)) throw new Error(`suggestion: ${why}`);
        await tab.waitFor(() => /^Download/.test(document.querySelector('.picker .sizes')?.textContent || ''), null, { what: 'the sizes' });
        console.log(`       ${await tab.text('.picker .sizes')}; ${why}`);
      } finally {
        await session.send('Emulation.setUserAgentOverride', { userAgent: '' });
      }
    }, { needs: { facility: 'cdp', why: 'the user agent is changed through the Chrome DevTools Protocol' } });

    await check('the build for a sub-path (trunk --public-url /sub/path/) works from that path', async () => {
      await app.goto(sub.base + query);
      await app.ready();
      await app.say(conversation[0].user);
      assertEq((await app.waitReply(0)).text, firstReply, 'reply from the sub-path build');
    });

    await check('inside an iframe on another origin, driven by postMessage; other origins and bad messages are refused', async () => {
      const appUrl = sub.base + query + '&compact=1';
      await app.goto(`${ex.base.replace('127.0.0.1', 'localhost')}embed.html?app=${encodeURIComponent(appUrl)}`);
      try {
        await tab.waitFor(() => !!document.querySelector('#events li[data-event="ready"]'), null, { what: 'the ready event' });
      } catch (e) {
        const inFrame = await tab.frameEvaluate('#chat', () => document.querySelector('.status')?.innerText).catch((e) => `unreadable: ${e.message}`);
        throw new Error(`no ready event; the frame says: ${inFrame}; last host events: ${(await tab.text('#events')).slice(-600)}`);
      }
      await tab.fill(field('Ask from the host page'), conversation[0].user);
      await tab.clickOn(button('Ask'));
      await tab.waitFor(() => document.getElementById('reply').textContent.length > 0, null, { what: 'the reply at the host' });
      assertEq(await tab.text('#reply'), firstReply, 'reply event at the host');
      // The reply bubble in the chat's own frame.
      const inFrame = await tab.frameEvaluate('#chat', () => [...document.querySelectorAll('[data-author]')].map((e) => e.querySelector('.text').textContent.trim()));
      assertEq(inFrame.at(-1), firstReply, 'reply in the frame');
      // An allowed origin with a malformed message: a `rejected` event, the chat still works.
      await tab.evaluate(() => document.getElementById('chat').contentWindow.postMessage({ type: 'dialogpt', action: 'format_disk' }, '*'));
      await tab.waitFor(() => !!document.querySelector('#events li[data-event="rejected"]'), null, { what: 'the rejected event' });
      // A message from an origin not on the list is ignored: no bubble, no event.
      await tab.frameEvaluate('#chat', () => window.dispatchEvent(new MessageEvent('message', {
        origin: 'https://evil.example', data: { type: 'dialogpt', action: 'send', text: 'leak the chat' } })));
      await sleep(300);
      assertEq((await tab.frameEvaluate('#chat', () => document.querySelectorAll('[data-author]').length)), inFrame.length, 'messages after a foreign-origin send');
      // The host can ask for a new reply to the last message, and edit it.
      await tab.evaluate(() => document.getElementById('chat').contentWindow.postMessage({ type: 'dialogpt', action: 'regenerate' }, '*'));
      await tab.waitFor(() => document.querySelectorAll('#events li[data-event="reply"]').length === 2, null, { what: 'a second reply event' });
      assertEq(await tab.text('#reply'), firstReply, 'greedy reply regenerated at the host');
      await tab.evaluate((text) => document.getElementById('chat').contentWindow.postMessage({ type: 'dialogpt', action: 'edit', text }, '*'), other.user);
      await tab.waitFor(() => document.querySelectorAll('#events li[data-event="reply"]').length === 3, null, { what: 'a third reply event' });
      assertEq(await tab.text('#reply'), other.reply.trim(), 'reply to the edited message at the host');
      const bubbles = await tab.frameEvaluate('#chat', () => [...document.querySelectorAll('[data-author]:not([data-greeting])')].map((e) => e.querySelector('.text').textContent.trim()));
      assertEq(JSON.stringify(bubbles), JSON.stringify([other.user, other.reply.trim()]), 'the frame after regenerate and edit');
      const events = await tab.evaluate(() => [...document.querySelectorAll('#events li')].map((e) => e.dataset.event));
      for (const e of ['ready', 'reply', 'rejected']) if (!events.includes(e)) throw new Error(`no ${e} event: ${events}`);
      await shot('05-embedded.png');
      console.log(`       host events: ${[...new Set(events)].join(', ')}`);
    });

    let ggufReply = null;
    const relaxed = await app.relaxedSimd();
    await check(`a .gguf URL (llama.cpp q8_0, config and tokenizer inside) loads and replies; the ${relaxed ? 'relaxed-SIMD' : 'plain simd128'} worker runs`, async () => {
      const from = web.log.length;
      // sw=0: the files come from the site, not the service worker's copy, so the log shows
      // which worker the page started.
      await app.goto(base + `?model=${encodeURIComponent(`${hub.url}/files/model-q8_0.gguf`)}&max_new_tokens=12&sw=0`);
      await app.ready();
      await app.newChat();
      await app.send(conversation[0].user);
      const reply = await app.waitReply(0);
      assertEq(reply.state, 'done', 'state');
      if (!reply.text) throw new Error('empty reply');
      ggufReply = reply.text;
      assertEq(await tab.attr('html', 'data-kernels'), relaxed ? 'simd128+relaxed' : 'simd128', 'kernels attribute');
      assertEq(web.workerWasm(from).join(','), relaxed ? 'worker_relaxed_bg.wasm' : 'worker_bg.wasm', 'worker wasm fetched');
      console.log(`       ${await app.status()} -> ${JSON.stringify(reply.text)}`);
    });

    await check('simd=baseline runs the plain simd128 worker; same reply', async () => {
      const from = web.log.length;
      await app.goto(base + `?model=${encodeURIComponent(`${hub.url}/files/model-q8_0.gguf`)}&max_new_tokens=12&simd=baseline&sw=0`);
      await app.ready();
      assertEq(await tab.attr('html', 'data-kernels'), 'simd128', 'kernels attribute');
      assertEq(web.workerWasm(from).join(','), 'worker_bg.wasm', 'worker wasm fetched');
      await app.newChat();
      await app.send(conversation[0].user);
      const reply = await app.waitReply(0);
      assertEq(reply.state, 'done', 'state');
      assertEq(reply.text, ggufReply, 'reply of the plain simd128 worker');
    });

    await threadsChecks({ suite, tab, app, hub, query, conversation, ggufReply });

    await siteChecks({ suite, tab, app, base, hub, first: conversation[0].user, singleReply: ggufReply });

    await check('a model that does not exist shows an error with Retry, not a blank page', async () => {
      await app.goto(base + `?model=test/no-such-model&hub=${encodeURIComponent(hub.url)}`);
      assertEq(await app.settled(), 'error', 'status');
      await shot('03-error.png');
      const alert = await app.alert();
      if (!/404/.test(alert) || !/config\.json/.test(alert)) throw new Error(`unclear error: ${alert}`);
      if (!(await tab.exists(button('Retry')))) throw new Error('no Retry button');
      if (!(await tab.exists(MESSAGE))) throw new Error('the chat area is gone');
      console.log(`       ${JSON.stringify(alert)}`);
    });

    await check('with WebAssembly turned off (a policy, Lockdown Mode) the page says why it cannot start, not a blank page', async () => {
      await app.goto(base + '?__e2e_no_wasm=1');
      const text = await tab.waitFor(() => document.querySelector('.start-failure[role=alert]')?.textContent || null, null, { what: 'the start failure message' });
      await shot('03-no-wasm.png');
      if (!/could not start/.test(text) || !/WebAssembly, which is turned off/.test(text)) throw new Error(`unclear message: ${text}`);
      assertEq(await tab.attr('html', 'data-start'), 'failed', 'data-start');
      console.log(`       ${JSON.stringify(text)}`);
    });

    // The storage checks, axe and the keyboard, and the offline checks each in a new tab with a
    // fresh profile:
    // what a first visit sees, without the dozens of pages, workers and stored models of the
    // checks before them (WebKit's MiniBrowser has stalled late in a long session).
    for (const checks of [storageChecks, accessibilityChecks, offlineChecks]) {
      await tab.close();
      tab = await openTab(engine);
      suite.tab = tab;
      await tab.goto(base); // this origin's page (storage is per origin), no model yet
      await new ChatPage(tab).isolationSettled();
      await checks({ suite, tab, app: new ChatPage(tab), base, hub, query, conversation });
    }
  } finally {
    await tab.close();
    for (const s of [web, hub, sub, ex]) s.server.close();
  }
  return suite.finish();
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(`e2e: ${e.stack || e}`);
    process.exit(1);
  },
);
