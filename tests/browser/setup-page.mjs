// Drives the setup page of `byod-precheck serve` in Debian's headless chromium (run by
// tests/it/serve.rs): fills the form for the local PostgreSQL, presses Check, watches the
// findings arrive worst first and the verdict, downloads the report and validates it against
// reports/report.schema.json; then the same with the keyboard alone at 375 px. Screenshots go
// to $SHOTS. Exits non-zero with the reason on the first failure.
import { chromium } from 'playwright-core';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SERVICE = process.env.SERVICE;
const SHOTS = process.env.SHOTS;
const schema = JSON.parse(readFileSync(process.env.SCHEMA, 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
const ORDER = { fail: 0, error: 1, warn: 2, pass: 3, skip: 4 };

function check(cond, what) {
  if (!cond) { throw new Error(what); }
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
async function newPage(width) {
  const ctx = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') { errors.push(m.text()); } });
  page.on('request', (r) => { if (!r.url().startsWith(SERVICE) && !r.url().startsWith('blob:')) { errors.push('external request ' + r.url()); } });
  await page.goto(SERVICE + '/');
  await page.waitForSelector('body[data-ready="1"]');
  return page;
}

async function findingsWorstFirst(page) {
  const statuses = await page.$$eval('#findings li', (ls) => ls.map((l) => l.dataset.status));
  check(statuses.length > 10, `only ${statuses.length} findings shown`);
  for (let i = 1; i < statuses.length; i++) {
    check(ORDER[statuses[i - 1]] <= ORDER[statuses[i]], `not worst first: ${statuses.join(',')}`);
  }
  return statuses;
}

async function downloadAndValidate(page, click, name) {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = join(SHOTS, name);
  await dl.saveAs(path);
  const report = JSON.parse(readFileSync(path, 'utf8'));
  check(validate(report), 'the downloaded report does not match the schema: ' + JSON.stringify(validate.errors));
  check(report.target.engine === 'postgres', 'not the PostgreSQL report');
  check(!JSON.stringify(report).includes('page-test-pw'), 'the password is in the report');
  return report;
}

// 1. With the mouse, 1280 px: the engine changes the form.
{
  const page = await newPage(1280);
  check(await page.isHidden('.token'), 'the token field shows on loopback');
  await page.selectOption('#engine', 'sqlite');
  check(await page.isVisible('#path') && await page.isHidden('#host'), 'SQLite shows a path, not a host');
  await page.selectOption('#engine', 'mssql');
  check((await page.$$eval('#tls option', (o) => o.map((x) => x.value))).includes('trust'), 'SQL Server TLS choices');
  check(await page.getAttribute('#port', 'placeholder') === '1433', 'SQL Server default port');
  await page.check('input[name=mode][value=url]');
  check(await page.isVisible('#url') && await page.isHidden('#engine'), 'the connection-string mode');
  await page.check('input[name=mode][value=fields]');
  await page.selectOption('#engine', 'postgres');
  await page.fill('#host', '127.0.0.1');
  await page.fill('#port', '5432');
  await page.fill('#database', 'test');
  await page.fill('#user', 'postgres');
  await page.fill('#password', 'page-test-pw');
  await page.selectOption('#tls', 'prefer');
  await page.click('#check');
  await page.waitForSelector('#findings li', { timeout: 30000 });
  await page.waitForSelector('body[data-verdict]', { timeout: 60000 });
  const statuses = await findingsWorstFirst(page);
  const verdict = await page.textContent('#verdict-text');
  const overall = await page.textContent('#overall');
  check(/PASS|WARN|FAIL|ERROR/.test(overall), 'no verdict badge');
  const fixes = await page.$$eval('#findings dd.remedy', (d) => d.length);
  console.log(`1280: ${statuses.length} findings, verdict ${overall} "${verdict}", ${fixes} fixes shown`);
  const report = await downloadAndValidate(page, () => page.click('#download'), 'downloaded-report.json');
  check(report.checks.length === statuses.length, 'the page shows every finding of the report');
  await page.screenshot({ path: join(SHOTS, 'setup-1280.png'), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  check(overflow <= 375, `the page is ${overflow} px wide at 375`);
  await page.screenshot({ path: join(SHOTS, 'setup-375.png'), fullPage: true });
}

// 2. Keyboard only, 375 px: every control labelled, a visible focus, Enter checks, the verdict
// takes the focus, the download button is reached from it.
{
  const page = await newPage(375);
  const unlabelled = await page.$$eval('input:not([type=radio]),select,textarea', (els) =>
    els.filter((e) => !document.querySelector(`label[for="${e.id}"]`)).map((e) => e.id));
  check(unlabelled.length === 0, 'controls without a label: ' + unlabelled.join(','));
  const focused = async () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.value));
  await page.keyboard.press('Tab'); // the mode radios
  check(await focused() === 'fields', 'first stop is the mode choice, not ' + await focused());
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(outline !== 'none', 'no visible focus');
  const stops = [['engine', null], ['host', '127.0.0.1'], ['port', '5432'], ['database', 'test'], ['user', 'postgres'], ['password', 'page-test-pw'], ['tls', null], ['ca', null], ['check', null]];
  for (const [id, text] of stops) {
    await page.keyboard.press('Tab');
    check(await focused() === id, `focus order: expected ${id}, got ${await focused()}`);
    if (text) { await page.keyboard.type(text); }
    if (id === 'tls') { await page.keyboard.type('Use'); }
  }
  check(await page.inputValue('#tls') === 'prefer', 'the TLS choice by keyboard');
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-verdict]', { timeout: 60000 });
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'verdict');
  check(await page.getAttribute('#status', 'aria-live') === 'polite', 'status is not announced');
  await findingsWorstFirst(page);
  await page.keyboard.press('Shift+Tab');
  check(await focused() === 'download', 'the download button is not next to the verdict: ' + await focused());
  await downloadAndValidate(page, () => page.keyboard.press('Enter'), 'downloaded-report-keyboard.json');
  await page.screenshot({ path: join(SHOTS, 'setup-keyboard-375.png'), fullPage: true });
  console.log('keyboard: ok');
}

await browser.close();
if (errors.length) {
  console.error('page errors: ' + errors.join('\n'));
  process.exit(1);
}
