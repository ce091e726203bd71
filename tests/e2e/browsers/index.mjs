// Opens a tab in the engine the suite was asked for: `--browser chromium|firefox|webkit`
// (or E2E_BROWSER), Chromium by default. Each engine starts with a fresh, empty profile.
export const ENGINES = ['chromium', 'firefox', 'webkit'];

export function engineFromArgs(argv = process.argv) {
  const i = argv.indexOf('--browser');
  const name = (i >= 0 ? argv[i + 1] : process.env.E2E_BROWSER) || 'chromium';
  if (!ENGINES.includes(name)) throw new Error(`unknown browser ${name}: use ${ENGINES.join(', ')}`);
  return name;
}

export async function openTab(engine, options) {
  const mod = await import(`./${engine}.mjs`);
  return mod.open(options);
}
