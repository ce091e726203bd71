// The chat page as a user handles it, over any engine's Tab: what the suites do again and
// again (wait for the model, say something, read a reply, open a panel).
import { TIMEOUT } from './browsers/tab.mjs';

export const MESSAGE = { role: 'field', name: 'Message' };
export const button = (name) => ({ role: 'button', name });
export const field = (name) => ({ role: 'field', name });
const BOT = '[data-author="bot"]:not([data-greeting])';

// A minimal module with one relaxed-SIMD instruction (i8x16.relaxed_swizzle), as the app probes it
// (src/ui/browser.rs): it validates only where the engine runs relaxed SIMD.
const RELAXED_SIMD_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11];

export class ChatPage {
  constructor(tab) {
    this.tab = tab;
  }

  /** Whether this engine validates relaxed SIMD (the page then starts a relaxed worker build). */
  relaxedSimd() {
    return this.tab.evaluate((bytes) => WebAssembly.validate(new Uint8Array(bytes)), RELAXED_SIMD_PROBE);
  }

  async goto(url) {
    await this.tab.goto(url);
    await this.isolationSettled();
  }

  /**
   * On a first visit the app's service worker may reload an idle page once, to isolate it
   * (web/offline.js): waits until that has happened or will not (`data-coi` no longer
   * pending or reloading), so a check does not act on a page about to go. Returns the state.
   */
  isolationSettled() {
    return this.tab.waitFor(() => {
      // A page still loading may be the reload itself, whose start.js has not run yet (and an
      // engine may show an empty document in between): the app's page always says its state.
      if (document.readyState !== 'complete') return null;
      // A new tab's about:blank is still showing until the navigation commits (seen in Firefox).
      if (location.protocol === 'about:') return null;
      const coi = document.documentElement.dataset.coi;
      if (!coi) return document.querySelector('script[src*="start.js"]') ? null : 'none';
      return coi === 'pending' || coi === 'reloading' ? null : coi;
    }, null, { timeout: 60_000, what: 'the page to be isolated, or not to be reloaded for it' });
  }

  /** The status line (progress, Ready summary or error), whitespace folded. */
  status() {
    return this.tab.text('.status');
  }

  /** Waits until the model is ready or failed; returns `ready` or `error`. */
  async settled(timeout = TIMEOUT) {
    try {
      return await this.tab.waitFor(() => {
        const s = document.querySelector('.app')?.dataset.status;
        return s === 'ready' || s === 'error' ? s : null;
      }, null, { timeout, what: 'the model to be ready or fail' });
    } catch (e) {
      throw new Error(`${e.message}; the page says: ${await this.status().catch((x) => x.message)}`);
    }
  }

  async ready() {
    if ((await this.settled()) !== 'ready') throw new Error(`load failed: ${await this.status()}`);
    // A downloaded model is written to storage after Ready, while the chat already works: the
    // checks that follow (reload, stored files, notices) expect it kept or refused.
    await this.kept();
    // A threaded worker replaced by a one-thread one still gives the right replies, slower to
    // start: the log says so, for who wonders why a check took 30 s longer.
    const fallback = await this.tab.attr('html', 'data-thread-fallback');
    if (fallback) console.log(`       note: the threaded worker was replaced (${fallback}): ${await this.status()}`);
  }

  /**
   * Waits until the model is ready and, when it was downloaded, written to storage (or
   * refused): returns the root's `data-keep`: `kept`, `not-kept`, or '' for a model that was
   * not downloaded.
   */
  async kept(timeout = TIMEOUT) {
    const { keep } = await this.tab.waitFor(() => {
      const status = document.querySelector('.app')?.dataset.status;
      const keep = document.documentElement.dataset.keep ?? '';
      return status !== 'ready' || keep === 'writing' ? null : { keep };
    }, null, { timeout, what: 'the downloaded model to be kept on the device' });
    return keep;
  }

  async alert() {
    return this.tab.text('[role=alert]');
  }

  /** Types `text` into the Message box and presses Enter. */
  async say(text) {
    await this.tab.fill(MESSAGE, text);
    await this.tab.pressOn(MESSAGE, 'Enter');
  }

  /** The same with a click on Send. */
  async send(text) {
    await this.tab.fill(MESSAGE, text);
    await this.tab.clickOn(button('Send'));
  }

  /** Waits for bot bubble `n` to finish: { state, text }. */
  async waitReply(n, timeout = TIMEOUT) {
    return this.tab.waitFor((n) => {
      const b = document.querySelectorAll('[data-author="bot"]:not([data-greeting])')[n];
      if (!b || !['done', 'stopped', 'failed'].includes(b.dataset.state)) return null;
      return { state: b.dataset.state, text: b.querySelector('.text').textContent.trim() };
    }, n, { timeout, what: `reply ${n + 1}` });
  }

  /** Waits until bot bubble `n` is streaming (or already shows text longer than `chars`). */
  async replyStarted(n = 0, chars = 0) {
    await this.tab.waitFor(([n, chars]) => {
      const b = document.querySelectorAll('[data-author="bot"]:not([data-greeting])')[n];
      return b && (b.dataset.state === 'streaming' || b.querySelector('.text').textContent.length > chars)
        && b.querySelector('.text').textContent.length >= chars;
    }, [n, chars], { what: `reply ${n + 1} to stream`, interval: 5 });
  }

  async newChat() {
    await this.tab.clickOn(button('New chat'));
    await this.tab.waitFor(() => document.querySelectorAll('[data-author]:not([data-greeting])').length === 0, null, { what: 'an empty chat' });
  }

  userCount() {
    return this.tab.count('[data-author="user"]');
  }

  botCount() {
    return this.tab.count(BOT);
  }

  async meter() {
    return this.tab.text('.meter .context');
  }

  async speed() {
    return this.tab.text('.meter .speed');
  }

  /** Opens a `<details>` panel (settings, stored) if it is closed. */
  async openPanel(cls) {
    if (!(await this.tab.evaluate((cls) => document.querySelector(`details.${cls}`).open, cls))) {
      await this.tab.click(await this.tab.find(`details.${cls} > summary`));
    }
  }

  async closePanel(cls) {
    if (await this.tab.evaluate((cls) => document.querySelector(`details.${cls}`).open, cls)) {
      await this.tab.click(await this.tab.find(`details.${cls} > summary`));
    }
  }

  /** Types a value into a Settings field and leaves it (the change applies). */
  async setting(label, value) {
    await this.openPanel('settings');
    await this.tab.fill(field(label), String(value));
    // Enter applies a setting as leaving the field does (headless Firefox sends no blur).
    await this.tab.pressOn(field(label), 'Enter');
  }

  /** The stored-models list: [{ name, size }]. */
  async stored() {
    await this.openPanel('stored');
    await this.tab.waitFor(() => /Stored models \(\d/.test(document.querySelector('details.stored summary')?.textContent || ''), null, { what: 'the stored-models list' });
    return this.tab.evaluate(() => [...document.querySelectorAll('.stored-model')].map((e) => ({
      name: e.querySelector('.name').textContent, size: e.querySelector('.size').textContent,
    })));
  }

  // ---- through the test hooks (hooks/page.js) ----

  /** Files the page offered for download: [{ name, type, text }]. */
  downloads() {
    return this.tab.evaluate(() => window.__e2e.downloads);
  }

  clipboardWrites() {
    return this.tab.evaluate(() => window.__e2e.clipboard);
  }

  /** The next message the current worker gets raises an uncaught error in it (hooks/worker.js). */
  async failWorkerOnNextMessage() {
    await this.tab.evaluate(() => window.__e2e.workers.at(-1).postMessage({ __e2e: 'fail-next' }));
  }

  /** Ends the current worker with no error event, as a killed process would. */
  async terminateWorker() {
    await this.tab.evaluate(() => window.__e2e.workers.at(-1).terminate());
  }
}
