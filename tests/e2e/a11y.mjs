// Accessibility checks of the e2e suite: axe-core (WCAG 2.1 A/AA and best practice) on the
// page's five states at desktop and phone size, and every control reachable by keyboard.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { button } from './app.mjs';
import { assertEq } from './harness.mjs';
import { clearFaults, hubFaults, TEST_REPO } from './servers.mjs';

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SIZES = [['desktop', 960, 720], ['phone', 390, 844]];

/** axe's violations on the page as it is now: ["rule (impact): target …"]. */
async function audit(tab) {
  return tab.evaluate(async (src) => {
    if (!window.axe) (0, eval)(src);
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(', ')}`);
  }, AXE);
}

export async function accessibilityChecks({ suite, tab, app, base, query }) {
  const results = {};
  // Each state is reached the way a user reaches it, then audited at both sizes.
  const states = [
    ['empty page', async () => {
      await app.goto(base);
      await tab.find(button('Load'));
    }],
    ['loading', async () => {
      // A quantization not stored yet, served slowly: the progress bar stays on screen.
      hubFaults.slowMs = 400;
      await app.goto(base + query.replace('quant=f32', 'quant=f16').replace(`model=${TEST_REPO}`, `model=${TEST_REPO}&storage=none`));
      await tab.waitFor(() => document.querySelector('.app').dataset.status === 'loading' && !!document.querySelector('progress'), null, { what: 'the progress bar' });
    }],
    ['chat', async () => {
      clearFaults();
      await app.goto(base + query);
      await app.ready();
      if ((await app.botCount()) === 0) {
        await app.say('Hello there');
        await app.waitReply(0);
      }
    }],
    ['settings open', async () => app.openPanel('settings')],
    ['stored models open', async () => {
      await app.closePanel('settings');
      await app.stored();
    }],
  ];
  try {
    for (const [state, reach] of states) {
      await suite.check(`axe-core: 0 violations with the ${state}, desktop and phone size`, async () => {
        await reach();
        const found = [];
        for (const [size, w, h] of SIZES) {
          await tab.setViewport(w, h);
          const v = await audit(tab);
          results[`${state} @ ${size}`] = v.length;
          found.push(...v.map((x) => `${size}: ${x}`));
        }
        await tab.setViewport(960, 720);
        if (found.length) throw new Error(found.join('\n'));
      });
    }
  } finally {
    clearFaults();
    await tab.setViewport(960, 720);
  }
  suite.note('axe_violations', results);

  await suite.check('every control is reachable with the Tab key', async () => {
    await app.goto(base + query);
    await app.ready();
    await app.openPanel('settings');
    await app.openPanel('stored');
    await app.stored();
    // Every enabled, visible control the page has.
    const controls = await tab.evaluate(() => {
      const all = [...document.querySelectorAll('button, input, select, textarea, summary, a[href]')];
      const shown = (el) => !el.disabled && (el.offsetWidth || el.offsetHeight || el.closest('label')?.offsetWidth);
      return all.filter(shown).map((el, i) => {
        el.dataset.k = String(i);
        return el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30) || el.tagName;
      });
    });
    await tab.evaluate(() => document.activeElement?.blur());
    const reached = new Set();
    for (let i = 0; i < controls.length * 2 + 5 && reached.size < controls.length; i++) {
      await tab.pressKey('Tab');
      const k = await tab.evaluate(() => (document.activeElement.closest('label')?.querySelector('input') || document.activeElement).dataset.k);
      if (k !== undefined) reached.add(Number(k));
    }
    const missed = controls.filter((_, i) => !reached.has(i));
    if (missed.length) throw new Error(`not reachable by Tab: ${missed.join(', ')}`);
    console.log(`       ${controls.length} controls, all reached by Tab`);
  });

  await suite.check('Enter and Space work the panels and buttons', async () => {
    await app.closePanel('settings');
    await app.closePanel('stored');
    const open = (cls) => tab.evaluate((cls) => document.querySelector(`details.${cls}`).open, cls);
    await tab.press(await tab.find('details.settings > summary'), 'Enter');
    assertEq(await open('settings'), true, 'Settings after Enter on its summary');
    await tab.press(await tab.find('details.stored > summary'), 'Space');
    assertEq(await open('stored'), true, 'Stored models after Space on its summary');
    if ((await app.userCount()) === 0) {
      await app.say('Hello there');
      await app.waitReply(0);
    }
    await tab.press(await tab.find(button('New chat')), 'Enter');
    await tab.waitFor(() => document.querySelectorAll('[data-author]').length === 0, null, { what: 'New chat by Enter' });
  }, { needs: { facility: 'keyActivation', why: 'key presses sent over WebDriver BiDi do not activate buttons or summaries in Firefox (a driver limit: typing and Tab work)' } });
}
