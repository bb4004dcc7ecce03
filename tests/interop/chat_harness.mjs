// What the headless-Chromium tests of the two chat pages share: chat_browser.mjs
// (examples/chat) and socketio_chat_browser.mjs (examples/socketio_chat). Both pages have the
// same DOM: #name, #room, #join, #status, #room-title, #members li (with "(you)"), #messages
// (.message with .name, .text, .state; .notice), #input, #send.
//
// `harness(name, {timeoutMs, inspect})` gives the test's state and helpers: `step` (what is
// being done, for the failure message), `pages` by label, `launch(args)`, `newPage(label)`,
// `join(label, base, name, room)` (the join form, then the room shown),
// `until(label, what, predicate, arg)` (waits up to 10 s for `predicate(arg)` in the page),
// `hasMember`, `hasMessage`, `hasNotice`, `type(label, text, how)`, `fail(reason)` (prints the
// reason and what every tab shows, then exits 1), `finish()` (no JavaScript error on any page,
// then "ok" and exit 0) and `run(main)`. `inspect` (a function run in a page) adds to what a
// failure shows of each tab, `detail` (a function run here) to the whole report. A hard
// timeout of `timeoutMs` ends the run with exit 1.
import { chromium } from 'playwright-core';

export const WAIT_MS = 10_000;

export function harness(name, { timeoutMs, inspect, detail }) {
  const t = { step: 'launching chromium', pages: {}, pageErrors: [], browser: null, context: null };

  async function describe(label, page) {
    try {
      const shown = await page.evaluate((label) => {
        const text = (sel) => document.querySelector(sel)?.textContent?.trim() ?? '(missing)';
        const items = [...document.querySelectorAll('#messages > *')].slice(-8)
          .map((n) => `    [${n.className}] ${n.textContent.trim()}`);
        const members = [...document.querySelectorAll('#members li')].map((li) => li.textContent.trim());
        return `  tab ${label}: status=${JSON.stringify(text('#status'))} room=${JSON.stringify(text('#room-title'))} `
          + `members=${JSON.stringify(members)}\n${items.join('\n') || '    (no messages)'}`;
      }, label);
      return inspect ? `${shown}\n    ${await page.evaluate(inspect)}` : shown;
    } catch (err) {
      return `  tab ${label}: (cannot inspect: ${err.message.split('\n')[0]})`;
    }
  }

  let failing = false;
  t.fail = async (reason) => {
    if (failing) return;
    failing = true;
    let shown = '';
    for (const [label, page] of Object.entries(t.pages)) {
      if (!page.isClosed()) shown += '\n' + await describe(label, page);
    }
    if (detail) shown += '\n  ' + detail();
    if (t.pageErrors.length) shown += '\n  page errors:\n    ' + t.pageErrors.join('\n    ');
    // eslint-disable-next-line no-control-regex
    const plain = `${reason}${shown}`.replace(/\x1b\[[0-9;]*m/g, '');
    console.error(`${name}: FAILED during "${t.step}": ${plain}`);
    if (t.browser) await t.browser.close().catch(() => {});
    process.exit(1);
  };

  const hardTimer = setTimeout(() => {
    console.error(`${name}: FAILED during "${t.step}": overall timeout of ${timeoutMs / 1000} s exceeded`);
    const closing = t.browser ? t.browser.close().catch(() => {}) : Promise.resolve();
    Promise.race([closing, new Promise((r) => setTimeout(r, 2000))]).then(() => process.exit(1));
  }, timeoutMs);

  t.launch = async (args = []) => {
    t.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      timeout: WAIT_MS,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', ...args],
    });
    t.context = await t.browser.newContext({ viewport: { width: 1000, height: 700 } });
  };

  t.newPage = async (label) => {
    const page = await t.context.newPage();
    t.pages[label] = page;
    page.on('pageerror', (err) => t.pageErrors.push(`tab ${label}: ${err.message}`));
    return page;
  };

  // Tab `label` loads `base`, joins `room` as `name`, and shows it: connected, the room's
  // title, its own name in the members list marked "(you)".
  t.join = async (label, base, name, room) => {
    t.step = `tab ${label} joins ${room} as ${name}`;
    const page = t.pages[label];
    await page.goto(base, { waitUntil: 'domcontentloaded', timeout: WAIT_MS });
    await page.waitForSelector('#name', { state: 'visible', timeout: WAIT_MS });
    await page.fill('#name', name);
    await page.fill('#room', room);
    await page.click('#join');
    await t.until(label, 'never reached status "connected"',
      () => document.querySelector('#status')?.textContent.trim() === 'connected');
    await t.until(label, `#room-title never showed ${JSON.stringify(room)}`,
      (room) => document.querySelector('#room-title')?.textContent.trim() === room, room);
    await t.hasMember(label, name);
    const you = await page.evaluate((name) => [...document.querySelectorAll('#members li')]
      .some((li) => li.textContent.includes(name) && li.textContent.includes('(you)')), name);
    if (!you) await t.fail(`tab ${label}: own name ${JSON.stringify(name)} is not marked "(you)"`);
    return page;
  };

  // Waits (up to WAIT_MS) until `predicate(arg)` is true inside the page.
  t.until = async (label, what, predicate, arg) => {
    try {
      await t.pages[label].waitForFunction(predicate, arg, { timeout: WAIT_MS, polling: 100 });
    } catch (err) {
      await t.fail(`tab ${label}: ${what} (${err.message.split('\n')[0]})`);
    }
  };

  t.hasMember = (label, name) => t.until(label, `members list never showed ${JSON.stringify(name)}`,
    (name) => [...document.querySelectorAll('#members li')]
      .some((li) => li.textContent.replace(/\(you\)/, '').trim() === name), name);

  t.hasMessage = (label, name, text) => t.until(label,
    `no .message from ${JSON.stringify(name)} with text ${JSON.stringify(text)}`,
    ([name, text]) => [...document.querySelectorAll('#messages .message')].some((m) =>
      m.querySelector('.name')?.textContent.trim() === name && m.querySelector('.text')?.textContent === text),
    [name, text]);

  t.hasNotice = (label, pattern) => t.until(label, `no .notice matching ${pattern}`,
    (source) => [...document.querySelectorAll('#messages .notice')]
      .some((n) => new RegExp(source).test(n.textContent)), pattern.source);

  // Types `text` in the composer and sends it with Enter, or with the Send button (`click`).
  t.type = async (label, text, how) => {
    t.step = `tab ${label} sends ${JSON.stringify(text)}`;
    const page = t.pages[label];
    await page.fill('#input', text);
    if (how === 'click') await page.click('#send');
    else await page.press('#input', 'Enter');
    await t.until(label, 'the input was not cleared after sending',
      () => document.querySelector('#input')?.value === '');
  };

  t.finish = async () => {
    if (t.pageErrors.length) await t.fail(`JavaScript errors on the page:\n    ${t.pageErrors.join('\n    ')}`);
    t.step = 'closing';
    await t.browser.close();
    clearTimeout(hardTimer);
    console.log('ok');
    process.exit(0);
  };

  t.run = (main) => main().catch((err) => t.fail(err?.message || String(err)));
  return t;
}
