// The check/assert harness of the e2e suites. Every check fails on an uncaught error, an
// unhandled rejection or a CSP violation in any page it visited (reported by the page hooks),
// and a check that needs what an engine lacks prints why it did not run there.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pageErrors, root } from './servers.mjs';
import { sleep } from './browsers/tab.mjs';

export const artifacts = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });

export function assertEq(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

export function reference() {
  return JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/reference/conversations.json'), 'utf8'));
}

export class Suite {
  constructor(name, tab) {
    Object.assign(this, { name, tab, results: [], notes: {} });
  }

  /**
   * Runs one check. `needs`: a facility of the tab (see Tab.facilities) and why the check
   * needs it; in an engine without it the check prints that it did not run, and why.
   * `expectErrors`: a pattern for page errors this check causes on purpose. `fn` may return
   * `{ notRun: why }` when it finds the engine lacking only as it runs.
   */
  async check(name, fn, { needs = null, expectErrors = null } = {}) {
    if (needs && !this.tab.facilities[needs.facility]) return this.notRun(name, needs.why);
    const t0 = Date.now();
    let run = await this.attempt(name, fn, expectErrors);
    // A check that hit WebKit's wasm trap (README, "Known problems") and failed runs once more;
    // the trap stays listed either way.
    if (run.failure && run.trapped) {
      console.log(`       the check failed after a WebKit wasm trap: running it once more`);
      (this.notes.rerun_after_trap ||= []).push({ check: name, failure: run.failure });
      run = await this.attempt(name, fn, expectErrors);
    }
    const { failure, outcome } = run;
    // A check that finds out only as it runs that the engine lacks what it needs returns
    // `{ notRun: why }`.
    if (!failure && outcome && outcome.notRun) return this.notRun(name, outcome.notRun);
    const ms = Date.now() - t0;
    this.results.push({ name, status: failure ? 'failed' : 'passed', ms, failure });
    if (failure) console.log(`FAIL - ${name}\n       ${failure.split('\n').join('\n       ')}`);
    else console.log(`ok   - ${name} (${ms} ms)`);
  }

  /** One run of a check's `fn`: { failure, outcome, trapped }. */
  async attempt(name, fn, expectErrors) {
    const errorsBefore = pageErrors.length;
    let failure = null;
    let outcome;
    try {
      outcome = await fn();
    } catch (e) {
      failure = String(e.message || e);
    }
    // Reports of the last page are sent as beacons: give them a moment to arrive.
    await sleep(150);
    const seen = new Map();
    for (const e of [...pageErrors.slice(errorsBefore), ...(await this.tab.pageErrors())]) seen.set(`${e.at} ${e.text}`, e);
    let unexpected = [...seen.values()].filter((e) => !(expectErrors && expectErrors.test(e.text)));
    // WebKitGTK's JavaScriptCore now and then traps in a wasm callback ("Out of bounds memory
    // access", "call_indirect to a null table entry") or leaves the allocator's heap corrupted
    // (a dlmalloc assertion in the worker), never in Chromium or Firefox on the same flows:
    // listed and counted rather than failed on its own. See README, "Known problems".
    let trapped = false;
    if (this.tab.engine === 'webkit') {
      const trap = (e) =>
        /^RuntimeError: (Out of bounds memory access|call_indirect to a null table entry)/.test(e.text) ||
        (e.kind === 'worker crash' && /^panicked at [^\n]*dlmalloc/.test(e.text));
      for (const e of unexpected.filter(trap)) {
        trapped = true;
        console.log(`       WebKit wasm trap: ${e.kind}: ${e.text.split('\n')[0]} (${e.url})`);
        (this.notes.webkit_traps ||= []).push({ check: name, ...e });
      }
      unexpected = unexpected.filter((e) => !trap(e));
    }
    // Listed even when the check failed otherwise: an error in a page or worker often explains
    // a timeout.
    if (unexpected.length) {
      // An uncaught error carries its stack after the first line: kept, it says where a trap was.
      const describe = (e) => {
        const [first, ...stack] = e.text.split('\n');
        return `${e.kind}: ${first} (${e.url})${stack.length ? `\n  ${stack.join('\n  ')}` : ''}`;
      };
      const errors = `page errors: ${unexpected.map(describe).join('; ')}`;
      failure = failure ? `${failure}\n${errors}` : errors;
    }
    return { failure, outcome, trapped };
  }

  /** A check that cannot run in this engine, and why (printed, counted, never silent). */
  notRun(name, why) {
    this.results.push({ name, status: 'not run', why });
    console.log(`n/a  - ${name}\n       not run in ${this.tab.engine}: ${why}`);
  }

  /** A figure for the closing report (e.g. load times), kept in the suite's JSON. */
  note(key, value) {
    this.notes[key] = value;
  }

  /** Prints the summary (and the browser log when something failed); true when none failed. */
  finish() {
    const count = (s) => this.results.filter((r) => r.status === s).length;
    const failed = count('failed');
    if (failed && this.tab.logs.length) console.log(`--- browser log ---\n${this.tab.logs.slice(-200).join('\n')}`);
    const file = path.join(artifacts, `${this.name}-${this.tab.engine}.json`);
    fs.writeFileSync(file, JSON.stringify({ engine: this.tab.engine, results: this.results, notes: this.notes }, null, 1));
    const reruns = (this.notes.rerun_after_trap || []).length;
    const traps = this.notes.webkit_traps ? `; ${this.notes.webkit_traps.length} WebKit wasm trap(s), ${reruns} check(s) run again after one, listed above` : '';
    console.log(`${this.name} (${this.tab.engine}): ${count('passed')} passed, ${failed} failed, ${count('not run')} not run in this engine${traps}`);
    return failed === 0;
  }
}
