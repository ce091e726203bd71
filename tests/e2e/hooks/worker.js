// Test hook the e2e servers put in front of the app's worker loader scripts.
// - Uncaught errors and unhandled rejections in the worker are reported to the server
//   (`/__e2e/error`), as the page hook does for the page.
// - It listens before the app's own handler: `{__e2e: 'fail-next'}` from the page arms it (and
//   is hidden from the app), and the next message then raises an uncaught error inside the
//   worker while the app handles that message as usual, as a wasm trap mid-turn would.
(() => {
  // Sent a little later: a worker ended with its page (which aborts its loads, an error in
  // some engines) is gone by then and sends nothing.
  const report = (kind, text) => {
    const entry = { kind: `worker ${kind}`, text: String(text), url: self.location.href, at: Date.now() };
    setTimeout(() => fetch('/__e2e/error', { method: 'POST', body: JSON.stringify(entry), keepalive: true }).catch(() => {}), 300);
  };
  // The stack too: a wasm trap names the functions it went through, which the message does not.
  const where = (error) => (error && error.stack ? `\n${String(error.stack).split('\n').slice(0, 12).join('\n')}` : '');
  self.addEventListener('error', (e) => report('uncaught error', `${e.message || e.error}${where(e.error)}`));
  self.addEventListener('unhandledrejection', (e) => report('unhandled rejection', (e.reason && (e.reason.stack || e.reason.message)) || e.reason));

  let armed = false;
  self.addEventListener('message', (e) => {
    if (e.data && e.data.__e2e === 'fail-next') {
      armed = true;
      e.stopImmediatePropagation();
      return;
    }
    if (armed) {
      armed = false;
      throw new Error('injected fault');
    }
  });
})();
