// Rebound's web pages in a real browser (Debian's chromium via
// playwright-core), driven by tests/api/browser.rs, which starts Rebound
// and the fake Slack and scripts the incidents. Checks what each page shows,
// that a private incident stays hidden from a non-member, the status page,
// and runs axe-core on every page: no serious or critical violations.
// Three phases (PHASE): `before` any incident (the status page only),
// `during` them (every page), `after` they are resolved (the status page).
// Usage: PHASE=during BASE=http://127.0.0.1:PORT FAKE=http://127.0.0.1:PORT WEEK=2026-W49 OUT=dir node suite.mjs
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const { PHASE, BASE, FAKE, WEEK, OUT } = process.env;
mkdirSync(OUT, { recursive: true });
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); };

async function accessible(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }));
  const bad = result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.log(`  axe ${name}: ${v.id} (${v.impact}) ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')}`);
  check(bad.length === 0, `${name}: no serious or critical accessibility violations`);
}

async function shot(page, name) {
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
}

async function signIn(context, user, name) {
  await fetch(`${FAKE}/test/sign-in-as?user=${user}&name=${encodeURIComponent(name)}`, { method: 'POST' });
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await page.waitForURL(`${BASE}/`);
  return page;
}

async function before(context) {
  const status = await context.newPage();
  await status.goto(`${BASE}/status`);
  const text = await status.textContent('body');
  check(text.includes('All Systems Operational'), 'status before: all systems operational');
  check(text.includes('No incidents in the last 90 days'), 'status before: no incidents');
  await shot(status, 'status-before');
  await accessible(status, 'status before');
}

async function after(context) {
  const status = await context.newPage();
  await status.goto(`${BASE}/status`);
  const text = await status.textContent('body');
  check(text.includes('All Systems Operational'), 'status after: back to all systems operational');
  check(text.includes('Checkout errors') && !text.includes('Active incidents'), 'status after: the published incident is in the past');
  check(!text.includes('Search slow'), 'status after: an incident nothing was published of is not shown');
  check(text.includes('we now fail over to a second one'), 'status after: the published post-mortem summary');
  check(!text.includes('provider fixed') && !text.includes('reindexed'), 'status after: resolve notes stay internal');
  check(!text.includes('Secret rotation'), 'status after: the private incident never appears');
  await shot(status, 'status-after');
  await accessible(status, 'status after');
}

async function during(browser, context) {
  const status = await context.newPage();
  await status.goto(`${BASE}/status`);
  const statusText = await status.textContent('body');
  check(statusText.includes('Partial System Outage'), 'status during: the banner says what is impacted');
  check(statusText.includes('Checkout errors'), 'status during: the published incident is shown');
  check(statusText.includes('We are looking into failed checkouts'), 'status during: its public update is shown');
  check(!statusText.includes('Secret rotation'), 'status during: the private incident is not');
  check(!statusText.includes('internal only'), 'status during: internal updates are not');
  await shot(status, 'status');
  await accessible(status, 'status');

  const home = await signIn(context, 'U0DECLARER', 'Dana Declarer');
  const homeText = await home.textContent('main');
  check(homeText.includes('Checkout errors') && homeText.includes('Secret rotation'), 'dashboard: a member sees the open incidents, private included');
  await shot(home, 'dashboard');
  await accessible(home, 'dashboard');

  await home.goto(`${BASE}/incidents/1`);
  const incidentText = await home.textContent('main');
  check(incidentText.includes('We are looking into failed checkouts'), 'incident page: customer updates');
  check(incidentText.includes('Impact started'), 'incident page: impact start');
  await shot(home, 'incident');
  await accessible(home, 'incident');

  await home.goto(`${BASE}/metrics-dashboard`);
  check(await home.locator('section.chart svg').count() === 4, 'metrics: four charts render (no cost rates, so the cost chart says how to set them)');
  const weekRow = await home.locator('section.chart').nth(1).locator(`tr:has(td:text-is("${WEEK}")) td`).allTextContents();
  check(JSON.stringify(weekRow) === JSON.stringify([WEEK, '1', '1', '1', '0', '0']), `metrics: this week's incidents by severity are 1/1/1 (got ${JSON.stringify(weekRow)})`);
  await shot(home, 'metrics');
  await accessible(home, 'metrics');

  await home.goto(`${BASE}/failures`);
  await shot(home, 'failures');
  await accessible(home, 'failures');

  await home.getByRole('button', { name: 'Sign out' }).click();
  await home.waitForLoadState();
  check((await home.textContent('main')).includes('You are signed out'), 'sign out');
  const after = await home.goto(`${BASE}/incidents/1`);
  check(after.url().includes('/openid/connect/authorize') || after.url().endsWith('/'), 'signed out: pages need signing in again');

  const outsiderContext = await browser.newContext({ bypassCSP: true });
  const outsider = await signIn(outsiderContext, 'U0OUTSIDER', 'Olly Outsider');
  const outsiderText = await outsider.textContent('main');
  check(outsiderText.includes('Checkout errors') && !outsiderText.includes('Secret rotation'), 'dashboard: a non-member does not see the private incident');
  const hidden = await outsider.goto(`${BASE}/incidents/2`);
  check(hidden.status() === 404, 'incident page: the private incident is a 404 to a non-member');

  const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1200, height: 900 } });
  const darkPage = await signIn(dark, 'U0DECLARER', 'Dana Declarer');
  await darkPage.goto(`${BASE}/metrics-dashboard`);
  await shot(darkPage, 'metrics-dark');
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  // Axe is injected into the pages, which Rebound's own policy forbids.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1200, height: 900 } });

  if (PHASE === 'before') await before(context);
  else if (PHASE === 'during') await during(browser, context);
  else if (PHASE === 'after') await after(context);
  else check(false, `unknown PHASE ${PHASE}`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
