// Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi (no geckodriver, no
// browser download).
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
import { profileDir, Tab } from './tab.mjs';

const EXECUTABLE = process.env.FIREFOX || '/usr/bin/firefox-esr';

// Puppeteer names a few keys differently from Playwright's names the suites use.
const KEYS = { 'Shift+Tab': ['Shift', 'Tab'], 'Shift+Enter': ['Shift', 'Enter'] };
const NAMES = { Space: ' ' };

class FirefoxTab extends Tab {
  constructor(browser, page, dir) {
    super('firefox');
    Object.assign(this, { browser, page, dir });
    // Over WebDriver BiDi, key presses do not activate buttons, and a headless window never
    // has the focus, so fields send no blur or change events.
    Object.assign(this.facilities, { keyActivation: false, blurEvents: false });
    page.on('console', (m) => this.logs.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${e.message}`));
  }

  async goto(url) {
    // Firefox's BiDi navigate has been seen to never answer (once in a CI run, the page's load
    // then unknown): bounded, and asked once more, said in the log so it is not hidden.
    try {
      await this.page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    } catch (e) {
      if (!/timed? ?out/i.test(String(e))) throw e;
      console.log(`       note: Firefox did not report the navigation to ${url} as loaded (${String(e).slice(0, 120)}); navigating again`);
      await this.page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    }
  }

  async reload() {
    await this.page.reload({ waitUntil: 'load' });
  }

  async evaluate(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  async click(sel) {
    await this.page.locator(sel).click();
  }

  // Focus from inside the page: puppeteer's own focus() puts back the value a number field
  // had before a script changed it, in Firefox.
  async focus(sel) {
    await this.evaluate((sel) => document.querySelector(sel).focus(), sel);
  }

  async typeInto(sel, text) {
    await this.focus(sel);
    await this.page.keyboard.type(text);
  }

  async press(sel, key) {
    await this.focus(sel);
    await this.pressKey(key);
  }

  async pressKey(key) {
    const combo = KEYS[key];
    if (!combo) return this.page.keyboard.press(NAMES[key] || key);
    await this.page.keyboard.down(combo[0]);
    await this.page.keyboard.press(combo[1]);
    await this.page.keyboard.up(combo[0]);
  }

  async setFiles(sel, file) {
    await (await this.page.$(sel)).uploadFile(file);
  }

  async screenshot(file) {
    await this.page.screenshot({ path: file, fullPage: true });
  }

  async setViewport(width, height) {
    await this.page.setViewport({ width, height });
    return this.evaluate(() => [innerWidth, innerHeight]);
  }

  async frameEvaluate(frameCss, fn, arg) {
    const frame = await (await this.page.$(frameCss)).contentFrame();
    return frame.evaluate(fn, arg);
  }

  async close() {
    await this.browser.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function open({ width = 960, height = 720 } = {}) {
  const dir = profileDir('firefox');
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: EXECUTABLE, headless: true, userDataDir: dir, protocol: 'webDriverBiDi',
    defaultViewport: { width, height },
  });
  const page = (await browser.pages())[0] || (await browser.newPage());
  return new FirefoxTab(browser, page, dir);
}
