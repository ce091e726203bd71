// What every engine's tab offers the suites: the thin driver layer. Each engine file
// (chromium.mjs, firefox.mjs, webkit.mjs) implements the primitives marked "engine"; the rest
// is built here once, from in-page JavaScript, so a check reads the same in every engine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 120_000);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh, empty browser profile folder; removed by `close`. */
export function profileDir(engine) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dialogpt-e2e-${engine}-`));
}

// Finds an element by what a user sees (a button's text or label, a field's label) and tags
// it with a unique attribute, so the engine's own click and keyboard can target it by CSS.
function tagElement({ role, name, css, within }) {
  const scope = within ? document.querySelector(within) : document;
  if (!scope) return null;
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const text = (el) => (el.getAttribute('aria-label') || el.textContent || '').replace(/\s+/g, ' ').trim();
  const labelOf = (el) => {
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
    const byFor = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
    const label = byFor || el.closest('label');
    return label ? label.textContent.replace(/\s+/g, ' ').trim() : '';
  };
  let candidates;
  if (css) candidates = [...scope.querySelectorAll(css)];
  else if (role === 'button') candidates = [...scope.querySelectorAll('button, [role=button], summary')].filter((el) => text(el) === name);
  else if (role === 'field') candidates = [...scope.querySelectorAll('input, textarea, select')].filter((el) => labelOf(el) === name);
  else throw new Error(`unknown role ${role}`);
  // A hidden file input is still the target of its visible label.
  const el = candidates.find(visible) || candidates.find((c) => c.type === 'file');
  if (!el) return null;
  window.__e2eTag = (window.__e2eTag || 0) + 1;
  el.setAttribute('data-e2e', String(window.__e2eTag));
  return `[data-e2e="${window.__e2eTag}"]`;
}

export class Tab {
  constructor(engine) {
    this.engine = engine;
    /** Facilities only some engines have; a check that needs one says so elsewhere. */
    this.facilities = { cdp: false, longTasks: false, clipboardRead: false, pageHeap: false, keyActivation: true, blurEvents: true };
    /** The page's console and errors where the engine reports them (printed on failure). */
    this.logs = [];
  }

  // ---- engine primitives: goto, reload, evaluate, click, typeInto, press, pressKey,
  // setFiles, screenshot, setViewport, frameEvaluate, close ----

  /** Polls `fn(arg)` in the page until it returns something truthy; returns that. */
  async waitFor(fn, arg, { timeout = TIMEOUT, interval = 50, what = 'a condition' } = {}) {
    const t0 = Date.now();
    let last;
    for (;;) {
      try {
        last = await this.evaluate(fn, arg);
        if (last) return last;
      } catch (e) {
        // A navigation in progress destroys the context: try again.
        last = e.message;
      }
      if (Date.now() - t0 > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
      await sleep(interval);
    }
  }

  /** A CSS selector for the element a user knows as `target` (see tagElement), waiting for it. */
  async find(target, { timeout = TIMEOUT } = {}) {
    const t = typeof target === 'string' ? { css: target } : target;
    return this.waitFor(tagElement, t, { timeout, what: `the element ${JSON.stringify(t)}` });
  }

  async exists(target) {
    const t = typeof target === 'string' ? { css: target } : target;
    return !!(await this.evaluate(tagElement, t));
  }

  async clickOn(target) {
    await this.click(await this.find(target));
  }

  /**
   * Replaces a field's text. Typed with the engine's keyboard where it can be: plain text of
   * a sane length. Text a keyboard cannot produce (control characters), very long text and
   * characters outside the BMP (WebDriver's sendKeys drops them in WebKitGTK) go in as one
   * input event, as a paste would.
   */
  async fill(target, text) {
    const sel = await this.find(target);
    const typeable = text.length > 0 && text.length <= 300 && !/[\u0000-\u001f\u007f]/.test(text) && !/[\ud800-\udfff]/.test(text);
    await this.evaluate(({ sel, text, typeable }) => {
      const el = document.querySelector(sel);
      el.focus();
      if (typeable) {
        el.select(); // the keystrokes replace what is there, as after Ctrl+A
        return;
      }
      const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value').set;
      setter.call(el, text);
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste', data: text }));
    }, { sel, text, typeable });
    if (typeable) await this.typeInto(sel, text);
  }

  /** Inserts text at the caret as a paste does (no keystrokes). */
  async paste(target, text) {
    const sel = await this.find(target);
    await this.evaluate(({ sel, text }) => {
      const el = document.querySelector(sel);
      el.focus();
      const at = el.selectionStart ?? el.value.length;
      const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value').set;
      setter.call(el, el.value.slice(0, at) + text + el.value.slice(el.selectionEnd ?? at));
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste', data: text }));
    }, { sel, text });
  }

  async pressOn(target, key) {
    await this.press(await this.find(target), key);
  }

  async text(css) {
    return this.evaluate((css) => (document.querySelector(css)?.innerText ?? '').replace(/\s+/g, ' ').trim(), css);
  }

  async texts(css) {
    return this.evaluate((css) => [...document.querySelectorAll(css)].map((e) => e.textContent), css);
  }

  async attr(css, name) {
    return this.evaluate(([css, name]) => document.querySelector(css)?.getAttribute(name) ?? null, [css, name]);
  }

  async count(css) {
    return this.evaluate((css) => document.querySelectorAll(css).length, css);
  }

  /** Errors the hooks saw in this page since its last navigation. */
  async pageErrors() {
    return this.evaluate(() => (window.__e2e ? window.__e2e.errors : [])).catch(() => []);
  }
}
