// WebKitGTK's MiniBrowser (the engine Safari uses), driven by selenium-webdriver through
// Debian's WebKitWebDriver. It needs a display: a private Xvfb is started for it.
import { Builder, By, Key } from 'selenium-webdriver';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { sleep, Tab, TIMEOUT } from './tab.mjs';

const MINIBROWSER = process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const KEYS = { Enter: Key.ENTER, Tab: Key.TAB, Escape: Key.ESCAPE, Backspace: Key.BACK_SPACE, Space: ' ' };

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Xvfb on a display number it picks itself (-displayfd). */
function startXvfb() {
  return new Promise((resolve, reject) => {
    const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1000x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    xvfb.on('error', reject);
    xvfb.stdio[3].once('data', (d) => resolve({ xvfb, display: `:${String(d).trim()}` }));
  });
}

async function waitForPort(port, timeout = 15_000) {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() - t0 > timeout) throw new Error(`WebKitWebDriver did not listen on ${port}`);
    await sleep(100);
  }
}

// Runs `fn(arg)` in the page and hands back its (awaited) value, or its error. The function's
// source is part of the script WebDriver runs (not an eval in the page, which a strict CSP
// forbids).
const asyncScript = (fn) => `
const done = arguments[arguments.length - 1];
const fn = (${fn});
Promise.resolve().then(() => fn(arguments[0])).then(
  (v) => done({ ok: v === undefined ? null : v, undef: v === undefined }),
  (e) => done({ error: String((e && e.stack) || e) }));`;

class WebKitTab extends Tab {
  constructor(driver, processes) {
    super('webkit');
    Object.assign(this, { driver, processes });
  }

  async goto(url) {
    await this.driver.get(url);
  }

  async reload() {
    await this.driver.navigate().refresh();
  }

  async evaluate(fn, arg) {
    const r = await this.driver.executeAsyncScript(asyncScript(String(fn)), arg === undefined ? null : arg);
    if (r && 'error' in r) throw new Error(r.error);
    return r.undef ? undefined : r.ok;
  }

  async click(sel) {
    await this.driver.findElement(By.css(sel)).click();
  }

  async typeInto(sel, text) {
    await this.driver.findElement(By.css(sel)).sendKeys(text);
  }

  async press(sel, key) {
    await this.driver.findElement(By.css(sel)).sendKeys(this.key(key));
  }

  async pressKey(key) {
    if (key.startsWith('Shift+')) {
      await this.driver.actions().keyDown(Key.SHIFT).sendKeys(this.key(key.slice(6))).keyUp(Key.SHIFT).perform();
      return;
    }
    await this.driver.actions().sendKeys(this.key(key)).perform();
  }

  key(name) {
    if (!KEYS[name]) throw new Error(`no WebDriver key for ${name}`);
    return KEYS[name];
  }

  async setFiles(sel, file) {
    await this.driver.findElement(By.css(sel)).sendKeys(file);
  }

  async screenshot(file) {
    fs.writeFileSync(file, Buffer.from(await this.driver.takeScreenshot(), 'base64'));
  }

  /** Sizes the window so the page gets `width`×`height` (the browser's own bars included). */
  async setViewport(width, height) {
    const win = this.driver.manage().window();
    await win.setRect({ width, height });
    const [w, h] = await this.evaluate(() => [innerWidth, innerHeight]);
    await win.setRect({ width: width + (width - w), height: height + (height - h) });
    return this.evaluate(() => [innerWidth, innerHeight]);
  }

  async frameEvaluate(frameCss, fn, arg) {
    await this.driver.switchTo().frame(this.driver.findElement(By.css(frameCss)));
    try {
      return await this.evaluate(fn, arg);
    } finally {
      await this.driver.switchTo().defaultContent();
    }
  }

  async close() {
    await this.driver.quit().catch(() => {});
    for (const p of this.processes) p.kill();
  }
}

export async function open({ width = 960, height = 720 } = {}) {
  const { xvfb, display } = await startXvfb();
  const port = await freePort();
  const driverProcess = spawn('WebKitWebDriver', [`--port=${port}`], { env: { ...process.env, DISPLAY: display }, stdio: 'ignore' });
  try {
    await waitForPort(port);
    const driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } })
      .build();
    await driver.manage().setTimeouts({ script: TIMEOUT + 10_000, pageLoad: TIMEOUT });
    const tab = new WebKitTab(driver, [driverProcess, xvfb]);
    await tab.setViewport(width, height);
    return tab;
  } catch (e) {
    driverProcess.kill();
    xvfb.kill();
    throw e;
  }
}
