// Debian's Chromium, driven by Playwright (playwright-core, no browser download). The only
// engine with CDP: quota overrides, performance metrics, long-task reports, clipboard reads.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { profileDir, Tab } from './tab.mjs';

const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
// No background traffic: this machine's network is closed and refuses it noisily.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

class ChromiumTab extends Tab {
  constructor(context, page, dir) {
    super('chromium');
    Object.assign(this, { context, page, dir });
    this.facilities = { cdp: true, longTasks: true, clipboardRead: true, pageHeap: true, keyActivation: true, blurEvents: true };
    page.on('console', (m) => this.logs.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${e.message}`));
  }

  async goto(url) {
    await this.page.goto(url);
  }

  async reload() {
    await this.page.reload();
  }

  async evaluate(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  async click(sel) {
    await this.page.click(sel);
  }

  async typeInto(sel, text) {
    await this.page.locator(sel).pressSequentially(text);
  }

  async press(sel, key) {
    await this.page.press(sel, key);
  }

  async pressKey(key) {
    await this.page.keyboard.press(key);
  }

  async setFiles(sel, file) {
    await this.page.setInputFiles(sel, file);
  }

  async screenshot(file) {
    await this.page.screenshot({ path: file, fullPage: true });
  }

  async setViewport(width, height) {
    await this.page.setViewportSize({ width, height });
    return this.evaluate(() => [innerWidth, innerHeight]);
  }

  async frameEvaluate(frameCss, fn, arg) {
    const frame = await (await this.page.$(frameCss)).contentFrame();
    return frame.evaluate(fn, arg);
  }

  /** A CDP session on the page (Chromium only). */
  async cdp() {
    this._cdp ||= await this.context.newCDPSession(this.page);
    return this._cdp;
  }

  async close() {
    await this.context.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function open({ width = 960, height = 720, args = [] } = {}) {
  const dir = profileDir('chromium');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: EXECUTABLE, headless: true, viewport: { width, height }, args: [...CHROMIUM_ARGS, ...args],
  });
  const page = context.pages()[0] || (await context.newPage());
  return new ChromiumTab(context, page, dir);
}
