// Browser tests of the web console (ctest label e2e): a real gsocd started
// here on loopback ports it picks itself, fed real syslog lines over TCP
// from two source addresses (agencies alpha and beta), and the console
// driven in Debian's headless Chromium by playwright-core.
//
// node console_test.mjs --gsocd PATH --modules NODE_MODULES --source SRC_DIR --artifacts DIR
//
// Prints one line per test (PASS/FAIL/SKIP with the reason) and a closing
// "N passed, N failed, N skipped". Exit 0 when nothing failed, 77 when the
// browser is missing (ctest SKIP_RETURN_CODE), 1 otherwise. Screenshots of
// the main views go to --artifacts. Everything started here is stopped by PID.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  if (at < 0 || at + 1 >= args.length) throw new Error(`missing ${name}`);
  return args[at + 1];
};
const gsocdPath = option('--gsocd');
const modules = option('--modules');
const source = option('--source');
const artifacts = option('--artifacts');
const chromiumPath = process.env.GSOC_CHROMIUM || '/usr/bin/chromium';
const started = Date.now();

if (!existsSync(chromiumPath)) {
  console.log(`SKIP: ${chromiumPath} is missing (deploy/setup.sh test installs Debian's chromium)`);
  process.exit(77);
}
const require = createRequire(join(modules, 'noop.js'));
const { chromium } = require('playwright-core');

const results = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
class Skip extends Error {}

async function waitFor(what, check, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// ---- gsocd ------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'gsoc-browser-'));
let gsocd = null;

// Starts gsocd on `apiPort` (0: any; a restart reuses the first one so the
// page's origin stays the same) with the data dir of this run.
function startGsocd(apiPort = 0) {
  const rules = join(source, 'rules');
  writeFileSync(join(dir, 'gsoc.yaml'), `data_dir: ${join(dir, 'var')}
log_level: info
metrics: {enabled: false}
api: {port: ${apiPort}}
agencies:
  - {name: alpha, cidrs: [127.0.0.2/32]}
  - {name: beta, cidrs: [127.0.0.3/32]}
  - {name: local, cidrs: [127.0.0.0/8]}
listeners:
  - {name: tcp, type: syslog_tcp, port: 0}
pipeline: {workers: 1}
rules:
  sigma: [${join(rules, 'sigma')}]
  decoders: [${join(rules, 'decoders')}]
  logsources: ${join(rules, 'logsources.yaml')}
  lists:
    - {name: bad_ips, file: ${join(rules, 'lists/bad_ips.txt')}}
    - {name: bad_domains, file: ${join(rules, 'lists/bad_domains.txt')}}
  cache_dir: ${join(dir, 'hs-cache')}
`);
  const log = join(dir, 'gsocd.log');
  gsocd = spawn(gsocdPath, ['-c', join(dir, 'gsoc.yaml'), '--ports-file', join(dir, 'ports.json')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  gsocd.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-20000); });
  gsocd.on('exit', () => writeFileSync(log, stderr));
  return waitFor('gsocd ports file', () => {
    if (gsocd.exitCode !== null) throw new Error(`gsocd exited: ${stderr.slice(-2000)}`);
    const file = join(dir, 'ports.json');
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
  }, 60000);
}

function stopGsocd() {
  if (gsocd && gsocd.exitCode === null) gsocd.kill('SIGKILL');
}

// SIGTERM and wait for the exit (the store closes cleanly).
async function stopGsocdGracefully() {
  if (!gsocd || gsocd.exitCode !== null) return;
  const exited = new Promise((resolve) => gsocd.once('exit', resolve));
  gsocd.kill('SIGTERM');
  await Promise.race([exited, sleep(20000)]);
  stopGsocd();
  rmSync(join(dir, 'ports.json'), { force: true });
}
process.on('exit', stopGsocd);

function rfc3164Now() {
  const now = new Date();
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (value) => String(value).padStart(2, '0');
  return `${months[now.getUTCMonth()]} ${String(now.getUTCDate()).padStart(2, ' ')} ` +
    `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
}

let lineNumber = 0;
// n sshd "Failed password for root" lines from `address` (alpha 127.0.0.2,
// beta 127.0.0.3): each makes alerts through the shipped rule pack.
function feed(ports, address, n) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: ports.tcp, host: '127.0.0.1', localAddress: address }, () => {
      let text = '';
      for (let i = 0; i < n; ++i) {
        const k = ++lineNumber;
        text += `<38>${rfc3164Now()} bastion sshd[${1000 + k}]: Failed password for root from ` +
          `198.18.${k % 200}.${k % 250} port ${40000 + k} ssh2\n`;
      }
      socket.end(text, resolve);
    });
    socket.on('error', reject);
  });
}

async function apiCall(ports, token, method, path, body) {
  const response = await fetch(`http://127.0.0.1:${ports.api}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch {
    data = text;
  }
  return { status: response.status, data };
}

// ---- browser --------------------------------------------------------------------

const consoleErrors = [];
// 404/405 from routes another part of issue 12 adds (whoami, cases, history,
// triage): the console handles them; anything else logged as an error fails.
const OPTIONAL_ROUTES = /\/api\/v1\/(whoami|cases|alerts\/\d+\/history|alerts\/triage)/;

async function newSession(browser, name, ports) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const url = (message.location() && message.location().url) || '';
    if (/status of 40[45]/.test(message.text()) && OPTIONAL_ROUTES.test(url)) return;
    consoleErrors.push(`${name}: ${message.text()} (${url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`${name}: ${error.message}`));
  await page.goto(`http://127.0.0.1:${ports.api}/`);
  return { context, page };
}

async function signIn(page, token) {
  await page.fill('[data-testid=token-input]', token);
  await page.click('[data-testid=signin-button]');
  await page.waitForSelector('[data-testid=identity]');
  await page.waitForSelector('[data-testid=stream-state]:text("live")');
}

const rowCount = (page, selector = '[data-testid=alert-row]') =>
  page.$$eval(selector, (rows) => rows.length);

async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

async function test(name, body) {
  const start = Date.now();
  try {
    const detail = await body();
    results.push({ name, outcome: 'PASS', detail: detail || '' });
  } catch (error) {
    results.push({ name, outcome: error instanceof Skip ? 'SKIP' : 'FAIL', detail: error.message });
  }
  const last = results[results.length - 1];
  console.log(`${last.outcome} ${name} (${Date.now() - start} ms)${last.detail ? `: ${last.detail}` : ''}`);
}

async function main() {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const ports = await startGsocd();
  const admin = readFileSync(join(dir, 'var', 'api-token'), 'utf8').trim();
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,  // --headless
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await run(browser, ports, admin);
  } finally {
    await browser.close();
    stopGsocd();
  }
}

async function run(browser, ports, admin) {
  const a = await newSession(browser, 'session A', ports);
  const { page } = a;
  let firstAlert = null;

  await test('the sign-in view is served by gsocd with a CSP, without a token', async () => {
    const response = await fetch(`http://127.0.0.1:${ports.api}/`);
    const csp = response.headers.get('content-security-policy') || '';
    if (response.status !== 200 || !csp.includes("default-src 'self'")) {
      throw new Error(`GET / -> ${response.status}, CSP "${csp}"`);
    }
    await page.waitForSelector('[data-testid=signin-form]');
    await screenshot(page, '01-sign-in');
  });

  await test('a wrong token is refused', async () => {
    const before = consoleErrors.length;
    await page.fill('[data-testid=token-input]', 'not-the-token');
    await page.click('[data-testid=signin-button]');
    await page.waitForSelector('[data-testid=signin-error]');
    // The browser logs the expected 401 itself; only other errors count.
    const logged = consoleErrors.splice(before);
    const other = logged.filter((text) => !/status of 401/.test(text));
    if (other.length) throw new Error(other.join(' | '));
  });

  await test('sign in; live alerts arrive', async () => {
    await signIn(page, admin);
    const before = await rowCount(page);
    await feed(ports, '127.0.0.2', 5);
    await feed(ports, '127.0.0.3', 5);
    await waitFor('alerts of both agencies in the list', async () => {
      const agencies = await page.$$eval('[data-testid=alert-row]',
        (rows) => rows.map((row) => row.dataset.agency));
      return agencies.includes('alpha') && agencies.includes('beta');
    });
    const received = await page.getAttribute('[data-testid=alert-count]', 'data-received');
    if (Number(received) < 10) throw new Error(`only ${received} alerts received live`);
    await screenshot(page, '02-alerts-live');
    return `${before} rows before feeding, ${received} received live, ${await rowCount(page)} shown`;
  });

  await test('filter by agency and level, then clear', async () => {
    await page.fill('[data-testid=filter-agency]', 'beta');
    await waitFor('only beta rows', async () => {
      const agencies = await page.$$eval('[data-testid=alert-row]',
        (rows) => rows.map((row) => row.dataset.agency));
      return agencies.length > 0 && agencies.every((agency) => agency === 'beta');
    });
    const beta = await rowCount(page);
    await page.selectOption('[data-testid=filter-level]', 'medium+');
    await waitFor('only medium or higher beta rows', async () => {
      const levels = await page.$$eval('[data-testid=alert-row] .level',
        (cells) => cells.map((cell) => cell.textContent));
      return levels.length > 0 && levels.length < beta &&
        levels.every((level) => ['medium', 'high', 'critical'].includes(level));
    });
    const high = await rowCount(page);
    await screenshot(page, '03-alerts-filtered');
    await page.fill('[data-testid=filter-agency]', '');
    await page.selectOption('[data-testid=filter-level]', '');
    await waitFor('both agencies again', async () => {
      const agencies = await page.$$eval('[data-testid=alert-row]',
        (rows) => rows.map((row) => row.dataset.agency));
      return agencies.includes('alpha') && agencies.includes('beta');
    });
    return `${beta} beta rows, ${high} of them medium+`;
  });

  await test('open an alert: events and the rule (description, ATT&CK tags)', async () => {
    firstAlert = await page.getAttribute('[data-testid=alert-row][data-agency=beta]', 'data-id');
    await page.click(`[data-testid=alert-row][data-id="${firstAlert}"] a`);
    await page.waitForSelector(`[data-testid=alert-detail][data-id="${firstAlert}"]`);
    await page.waitForSelector('[data-testid=rule-description]');
    const tags = await page.$$eval('[data-testid=attack-tag]', (items) => items.length);
    const events = await page.$$eval('[data-testid=events-panel] pre', (items) => items.length);
    if (tags < 1 || events < 1) throw new Error(`${tags} ATT&CK tags, ${events} events shown`);
    await screenshot(page, '04-alert-detail');
    return `alert ${firstAlert}: ${events} events, ${tags} ATT&CK tags`;
  });

  await test('acknowledge and close; a second session sees the change', async () => {
    const probe = await apiCall(ports, admin, 'POST', '/api/v1/alerts/triage',
      { ids: [], action: 'ack' });
    if (probe.status === 404 || probe.status === 405) {
      throw new Skip(`POST /api/v1/alerts/triage answers ${probe.status}: the triage routes are ` +
        'not in this build yet (this part runs once they are merged)');
    }
    const b = await newSession(browser, 'session B', ports);
    try {
      await signIn(b.page, admin);
      await b.page.waitForSelector(`[data-testid=alert-row][data-id="${firstAlert}"]`);
      await page.click('[data-testid=action-ack]');
      await page.waitForSelector('[data-testid=detail-status]:text("acknowledged")');
      await page.selectOption('[data-testid=close-reason]', 'false_positive');
      await page.click('[data-testid=action-close]');
      await page.waitForSelector('[data-testid=detail-status]:text("closed")');
      await b.page.waitForSelector(
        `[data-testid=alert-row][data-id="${firstAlert}"][data-status=closed]`, { timeout: 15000 });
      await screenshot(page, '05-alert-closed');
      await screenshot(b.page, '05-second-session');
    } finally {
      await b.context.close();
    }
  });

  await test('the stream resumes after gsocd restarts: no gap, no duplicate', async () => {
    await page.evaluate(() => { window.location.hash = '#/alerts'; });
    await page.waitForSelector('[data-testid=alert-table]');
    const ids = async () => page.$$eval('[data-testid=alert-row]',
      (rows) => rows.map((row) => Number(row.dataset.id)));
    const before = await ids();
    const newest = Math.max(...before);
    const errors = consoleErrors.length;
    await stopGsocdGracefully();
    await page.waitForSelector('[data-testid=stream-state]:text("reconnecting")');
    const restarted = await startGsocd(ports.api);
    ports.tcp = restarted.tcp;
    await feed(ports, '127.0.0.2', 3);  // likely stored before the page reconnects
    const stored = await waitFor('the new alerts stored', async () => {
      const reply = await apiCall(ports, admin, 'GET', `/api/v1/alerts?after_id=${newest}&limit=1000`);
      return reply.status === 200 && reply.data.alerts.length >= 6 ? reply.data.alerts : null;
    });
    await waitFor('the new alerts in the page', async () => {
      const now = await ids();
      return stored.every((alert) => now.includes(Number(alert.id)));
    }, 30000);
    const after = await ids();
    if (new Set(after).size !== after.length) throw new Error('an alert is shown twice');
    const fresh = after.filter((id) => id > newest).length;
    if (fresh !== stored.length) throw new Error(`${fresh} new rows for ${stored.length} new alerts`);
    // The browser logs the refused connections of the restart itself.
    const logged = consoleErrors.splice(errors);
    const other = logged.filter((text) => !/net::ERR_|Failed to fetch/.test(text));
    if (other.length) throw new Error(other.join(' | '));
    return `${stored.length} alerts fed after the restart, all shown once`;
  });

  await test('the overview shows counts by level, top rules and sources', async () => {
    await page.click('[data-testid=nav-overview]');
    await page.waitForSelector('[data-testid=chart-24h]');
    const total = await waitFor('alerts counted in the 24 h chart', async () => {
      const value = Number(await page.getAttribute('[data-testid=chart-24h]', 'data-total'));
      return value >= 10 ? value : 0;
    });
    const rules = await page.$$eval('[data-testid=top-rules] tr', (rows) => rows.length);
    const sources = await page.$$eval('[data-testid=top-sources] tr', (rows) => rows.length);
    if (rules < 1 || sources < 1) throw new Error(`${rules} top rules, ${sources} top sources`);
    // The alert closed above counts as closed, the others as open (gsocd wires
    // triage changes into the overview).
    const closed = Number(await page.getAttribute('[data-testid=open-closed]', 'data-closed'));
    const open = Number(await page.getAttribute('[data-testid=open-closed]', 'data-open'));
    if (closed < 1 || open + closed !== total) {
      throw new Error(`open ${open}, closed ${closed}, ${total} alerts`);
    }
    await screenshot(page, '06-overview');
    return `${total} alerts in 24 h (${open} open, ${closed} closed), ${rules} top rules, ${sources} top sources`;
  });

  await test('the cases view renders (or says cases are not available)', async () => {
    await page.click('[data-testid=nav-cases]');
    await page.waitForSelector('[data-testid=cases-view], [data-testid=cases-unavailable]');
    await screenshot(page, '07-cases');
  });

  await test('the live list keeps up with 10,000 alerts/s', async () => {
    await page.click('[data-testid=nav-alerts]');
    await page.waitForSelector('[data-testid=alert-table]');
    const outcome = await page.evaluate(async () => {
      const live = window.gsocConsole.live;
      const template = live.alerts[0];
      const before = live.received;
      let flushMs = 0;
      let flushes = 0;
      let generateMs = 0;
      const flush = live.flush;
      live.flush = function timed() {
        const start = performance.now();
        flush.call(this);
        flushMs += performance.now() - start;
        flushes += 1;
      };
      let longest = 0;
      const gaps = [];
      let last = performance.now();
      let running = true;
      const tick = (now) => {
        longest = Math.max(longest, now - last);
        gaps.push(now - last);
        last = now;
        if (running) requestAnimationFrame(tick);
      };
      // The idle frame rate first: on a loaded machine every frame is slower.
      const idle = [];
      await new Promise((resolve) => {
        let previous = performance.now();
        const idleTick = (now) => {
          idle.push(now - previous);
          previous = now;
          if (idle.length < 30) requestAnimationFrame(idleTick);
          else resolve();
        };
        requestAnimationFrame(idleTick);
      });
      idle.sort((x, y) => x - y);
      const idleP95 = idle[Math.floor(idle.length * 0.95)];
      let id = 1e12;
      last = performance.now();
      requestAnimationFrame(tick);
      for (let round = 0; round < 30; ++round) {  // 3 s at 1,000 events per 100 ms
        const events = [];
        const generating = performance.now();
        for (let i = 0; i < 1000; ++i) {
          ++id;
          events.push({ type: 'message', id: String(id),
            data: JSON.stringify({ ...template, id: String(id), triage: undefined }) });
        }
        generateMs += performance.now() - generating;
        live.enqueue(events);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      running = false;
      live.flush = flush;
      const rows = document.querySelectorAll('[data-testid=alert-row]').length;
      gaps.sort((x, y) => x - y);
      const p95 = gaps[Math.floor(gaps.length * 0.95)];
      return { received: live.received - before, kept: live.alerts.length, rows, longest, p95,
        frames: gaps.length, flushMs, flushes, generateMs, idleP95 };
    });
    if (outcome.received !== 30000) throw new Error(`received ${outcome.received} of 30000`);
    const summary = `idle frames p95 ${outcome.idleP95.toFixed(0)} ms; ${outcome.frames} ` +
      `frames, p95 ${outcome.p95.toFixed(0)} ms, longest ${outcome.longest.toFixed(0)} ms; ` +
      `${outcome.flushes} flushes took ` +
      `${outcome.flushMs.toFixed(0)} ms (parse and apply), the test's own event generation ` +
      `${outcome.generateMs.toFixed(0)} ms`;
    // Not frozen: p95 of the frames under 500 ms and none over 2 s. On a machine loaded beyond
    // 2 runnable tasks per core (other builds), the page gets a fraction of a core: the limits
    // grow with the load, which the output reports.
    const load = loadavg()[0] / cpus().length;
    const scale = Math.max(1, load / 2);
    if (outcome.longest > 2000 * scale || outcome.p95 > 500 * scale) {
      throw new Error(`too slow (load ${load.toFixed(1)} per core): ${summary}`);
    }
    if (outcome.rows !== 200) throw new Error(`${outcome.rows} rows rendered (expected 200)`);
    return `30,000 alerts in 3 s: ${outcome.kept} kept, ${outcome.rows} rows; ${summary}; ` +
      `load ${load.toFixed(1)} per core`;
  });

  await test('an agency analyst sees only their agency', async () => {
    const created = await apiCall(ports, admin, 'POST', '/api/v1/tokens',
      { role: 'agency-analyst', agencies: ['alpha'], name: 'alpha-analyst' });
    if (created.status === 404 || created.status === 405) {
      throw new Skip(`POST /api/v1/tokens answers ${created.status}: roles are not in this build ` +
        'yet (this part runs once they are merged)');
    }
    if (created.status !== 201) throw new Error(`POST /api/v1/tokens: ${created.status}`);
    const c = await newSession(browser, 'session C', ports);
    try {
      await signIn(c.page, created.data.token);
      await feed(ports, '127.0.0.3', 3);
      await feed(ports, '127.0.0.2', 3);
      await waitFor('alpha alerts', async () => (await rowCount(c.page)) > 0);
      await sleep(1000);  // beta alerts would have arrived by now
      const agencies = await c.page.$$eval('[data-testid=alert-row]',
        (rows) => rows.map((row) => row.dataset.agency));
      if (agencies.some((agency) => agency !== 'alpha')) {
        throw new Error(`the analyst of alpha sees ${[...new Set(agencies)].join(', ')}`);
      }
      await screenshot(c.page, '08-agency-analyst');
      const before = consoleErrors.length;
      await c.page.evaluate((id) => { window.location.hash = `#/alerts/${id}`; }, firstAlert);
      await c.page.waitForSelector('[data-testid=detail-error]');
      // The browser logs the expected 404 of another agency's alert itself.
      const logged = consoleErrors.splice(before);
      const other = logged.filter((text) => !text.includes(`status of 404`) ||
        !text.includes(`/api/v1/alerts/${firstAlert}`));
      if (other.length) throw new Error(other.join(' | '));
      await c.page.click('[data-testid=nav-overview]');
      // The agency choices come from whoami: wait for them, not only the view.
      await c.page.waitForFunction(() => [...document.querySelectorAll(
        '[data-testid=overview-agency] option')].some((option) => option.value));
      const choices = await c.page.$$eval('[data-testid=overview-agency] option',
        (options) => options.map((option) => option.value).filter(Boolean));
      if (choices.join() !== 'alpha') throw new Error(`overview agencies: ${choices.join()}`);
      return `${agencies.length} rows, all alpha; beta alert ${firstAlert} refused`;
    } finally {
      await c.context.close();
    }
  });

  await test('no console errors on the main views', async () => {
    if (consoleErrors.length) throw new Error(consoleErrors.slice(0, 5).join(' | '));
  });
  await a.context.close();
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  console.log(`FAIL setup: ${error.stack || error}`);
  results.push({ outcome: 'FAIL' });
}
stopGsocd();
const count = (outcome) => results.filter((result) => result.outcome === outcome).length;
if (count('FAIL') > 0) {
  exitCode = 1;
  console.log(`gsocd's data and log kept in ${dir}`);
} else {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`screenshots in ${artifacts}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${count('PASS')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped`);
process.exit(exitCode);
