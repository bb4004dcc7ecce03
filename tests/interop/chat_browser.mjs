// Headless-Chromium test of the chat example's page (examples/chat/index.html) against a
// running chat server that serves the page at `/` and the WebSocket at `/ws`.
//
// One browser, one context, three tabs: A joins "lobby" as alice, B joins "lobby" as bob.
// Checks: both members lists show alice and bob; A gets the notice "bob joined"; A -> B and
// B -> A chat messages; both tabs negotiated permessage-deflate and a 1.5 KB message
// (compressed both ways) arrives intact; HTML in a message is shown as text (no XSS); C joins "other" as carol
// and does not get alice's next message "only lobby" while B does (room isolation).
// Optional second argument: a PNG path for a screenshot of tab B (1000×700) after the exchange.
// Every tab's WebSocket must use wss:// when the page is https://, ws:// when it is http://.
//
// With --trust-cert CERT_PEM (an https:// page whose certificate no system CA issued), this
// run's Chromium accepts that certificate, and only it: see `trustedSpki` below.
// Prints "ok" and exits 0 when every check passed; otherwise prints the reason (and what the
// tabs showed) to stderr and exits 1. Hard timeout: 20 s.
//
//   bash scripts/install-peers.sh    # once: playwright-core in tests/interop, Debian chromium
//   node tests/interop/chat_browser.mjs http://127.0.0.1:8080/ [/tmp/chat.png]
//   node tests/interop/chat_browser.mjs https://localhost:8443/ --trust-cert server.pem
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const TIMEOUT_MS = 20_000;
const WAIT_MS = 10_000;
const argv = process.argv.slice(2);
const trustAt = argv.indexOf('--trust-cert');
const trustCert = trustAt >= 0 ? argv.splice(trustAt, 2)[1] : undefined;
const [base, screenshot] = argv;
if (!base || (trustAt >= 0 && !trustCert)) {
  console.error('usage: node chat_browser.mjs <http-url> [screenshot.png] [--trust-cert cert.pem]');
  process.exit(2);
}
const wantScheme = new URL(base).protocol === 'https:' ? 'wss:' : 'ws:';

// How this run's Chromium trusts a test certificate: --ignore-certificate-errors-spki-list
// with the base64 SHA-256 of the certificate's SubjectPublicKeyInfo. Chromium then accepts a
// chain that contains that public key, and still checks every other certificate; the key is
// made for this test run only, and the profile is a temporary one Playwright deletes.
// Not --ignore-certificate-errors nor Playwright's ignoreHTTPSErrors: those accept any
// certificate at all, so a server presenting the wrong one (or none that verifies) would
// pass unnoticed. Not the CA in an NSS database either: that needs certutil, and a profile
// to keep it in.
function trustedSpki(pemFile) {
  const certificate = new X509Certificate(readFileSync(pemFile));
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

let browser = null;
let step = 'launching chromium';
const pages = {};
const pageErrors = [];
const sockets = []; // "tab A: wss://..." for every WebSocket a tab opened

async function describe(label, page) {
  try {
    return await page.evaluate((label) => {
      const text = (sel) => document.querySelector(sel)?.textContent?.trim() ?? '(missing)';
      const items = [...document.querySelectorAll('#messages > *')].slice(-8)
        .map((n) => `    [${n.className}] ${n.textContent.trim()}`);
      const members = [...document.querySelectorAll('#members li')].map((li) => li.textContent.trim());
      return `  tab ${label}: status=${JSON.stringify(text('#status'))} room=${JSON.stringify(text('#room-title'))} `
        + `members=${JSON.stringify(members)}\n${items.join('\n') || '    (no messages)'}`;
    }, label);
  } catch (err) {
    return `  tab ${label}: (cannot inspect: ${err.message.split('\n')[0]})`;
  }
}

let failing = false;
async function fail(reason) {
  if (failing) return;
  failing = true;
  let detail = '';
  for (const [label, page] of Object.entries(pages)) detail += '\n' + await describe(label, page);
  if (pageErrors.length) detail += '\n  page errors:\n    ' + pageErrors.join('\n    ');
  // eslint-disable-next-line no-control-regex
  const plain = `${reason}${detail}`.replace(/\x1b\[[0-9;]*m/g, '');
  console.error(`chat_browser: FAILED during "${step}": ${plain}`);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}

const hardTimer = setTimeout(() => {
  console.error(`chat_browser: FAILED during "${step}": overall timeout of ${TIMEOUT_MS / 1000} s exceeded`);
  const closing = browser ? browser.close().catch(() => {}) : Promise.resolve();
  Promise.race([closing, new Promise((r) => setTimeout(r, 2000))]).then(() => process.exit(1));
}, TIMEOUT_MS);

// Waits (up to WAIT_MS) until `predicate(arg)` is true inside the page.
async function until(label, what, predicate, arg) {
  try {
    await pages[label].waitForFunction(predicate, arg, { timeout: WAIT_MS, polling: 100 });
  } catch (err) {
    await fail(`tab ${label}: ${what} (${err.message.split('\n')[0]})`);
  }
}

const hasMember = (label, name) => until(label, `members list never showed ${JSON.stringify(name)}`,
  (name) => [...document.querySelectorAll('#members li')]
    .some((li) => li.textContent.replace(/\(you\)/, '').trim() === name), name);

const hasMessage = (label, name, text) => until(label,
  `no .message from ${JSON.stringify(name)} with text ${JSON.stringify(text)}`,
  ([name, text]) => [...document.querySelectorAll('#messages .message')].some((m) =>
    m.querySelector('.name')?.textContent.trim() === name && m.querySelector('.text')?.textContent === text),
  [name, text]);

const hasNotice = (label, pattern) => until(label, `no .notice matching ${pattern}`,
  (source) => [...document.querySelectorAll('#messages .notice')]
    .some((n) => new RegExp(source).test(n.textContent)), pattern.source);

async function open(label, name, room) {
  step = `tab ${label} joins ${room} as ${name}`;
  const page = await context.newPage();
  pages[label] = page;
  page.on('pageerror', (err) => pageErrors.push(`tab ${label}: ${err.message}`));
  page.on('websocket', (ws) => sockets.push(`tab ${label}: ${ws.url()}`));
  await page.goto(base, { waitUntil: 'domcontentloaded', timeout: WAIT_MS });
  await page.waitForSelector('#name', { state: 'visible', timeout: WAIT_MS });
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await until(label, 'never reached status "connected"',
    () => document.querySelector('#status')?.textContent.trim() === 'connected');
  await until(label, `#room-title never showed ${JSON.stringify(room)}`,
    (room) => document.querySelector('#room-title')?.textContent.trim() === room, room);
  await hasMember(label, name);
  const you = await page.evaluate((name) => [...document.querySelectorAll('#members li')]
    .some((li) => li.textContent.includes(name) && li.textContent.includes('(you)')), name);
  if (!you) await fail(`tab ${label}: own name ${JSON.stringify(name)} is not marked "(you)"`);
  return page;
}

async function say(label, text, how) {
  step = `tab ${label} sends ${JSON.stringify(text)}`;
  const page = pages[label];
  await page.fill('#input', text);
  if (how === 'click') await page.click('#send');
  else await page.press('#input', 'Enter');
  await until(label, 'the input was not cleared after sending',
    () => document.querySelector('#input')?.value === '');
}

let context;
async function main() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: WAIT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...(trustCert ? [`--ignore-certificate-errors-spki-list=${trustedSpki(trustCert)}`] : [])],
  });
  context = await browser.newContext({ viewport: { width: 1000, height: 700 } });

  await open('A', 'alice', 'lobby');
  await open('B', 'bob', 'lobby');

  step = 'members lists';
  await hasMember('A', 'bob');
  await hasMember('B', 'alice');
  step = 'join notice';
  await hasNotice('A', /\bbob joined\b/);

  await say('A', 'hello from alice', 'enter');
  await hasMessage('B', 'alice', 'hello from alice');
  await hasMessage('A', 'alice', 'hello from alice');

  await say('B', 'hi alice', 'click');
  await hasMessage('A', 'bob', 'hi alice');

  // Compression: both tabs negotiated permessage-deflate, and a message over the server's
  // 1 KiB threshold travels compressed both ways (Chromium compresses what it sends).
  step = 'permessage-deflate negotiated';
  for (const label of ['A', 'B']) {
    const extensions = await pages[label].evaluate(() => document.querySelector('#status').dataset.extensions || '');
    if (!/permessage-deflate/.test(extensions)) await fail(`tab ${label}: no permessage-deflate in ${JSON.stringify(extensions)}`);
  }
  const long = 'compressible '.repeat(120).trim();
  await say('A', long, 'enter');
  await hasMessage('B', 'alice', long);

  const html = '<img src=x onerror="window.__xss=1"><b>bold</b>';
  await say('A', html, 'enter');
  await hasMessage('B', 'alice', html);
  step = 'no XSS';
  const injected = await pages.B.evaluate(() =>
    window.__xss === 1 || document.querySelector('#messages img, #messages .text b') !== null);
  if (injected) await fail('tab B: a message was inserted as HTML');

  await open('C', 'carol', 'other');
  step = 'room isolation';
  await say('A', 'only lobby', 'enter');
  await hasMessage('B', 'alice', 'only lobby');
  await pages.C.waitForTimeout(1000);
  const leaked = await pages.C.evaluate(() => [...document.querySelectorAll('#messages .message')]
    .map((m) => m.querySelector('.text')?.textContent));
  if (leaked.length) await fail(`tab C (room "other") received lobby messages: ${JSON.stringify(leaked)}`);
  const carolInLobby = await pages.B.evaluate(() => [...document.querySelectorAll('#members li')]
    .some((li) => li.textContent.includes('carol')));
  if (carolInLobby) await fail('tab B: carol (room "other") is listed in lobby\'s members');

  if (screenshot) {
    step = 'screenshot';
    await pages.B.bringToFront();
    await pages.B.screenshot({ path: screenshot });
  }
  step = `every WebSocket is ${wantScheme}//`;
  const wrong = sockets.filter((s) => !s.includes(` ${wantScheme}//`));
  if (!sockets.length || wrong.length) await fail(`the tabs opened ${JSON.stringify(sockets)}`);
  if (pageErrors.length) await fail(`JavaScript errors on the page:\n    ${pageErrors.join('\n    ')}`);

  step = 'closing';
  await browser.close();
  clearTimeout(hardTimer);
  console.log('ok');
  process.exit(0);
}

main().catch((err) => fail(err?.message || String(err)));
