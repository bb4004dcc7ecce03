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
// The harness (launch, waits, failure reports) is chat_harness.mjs, shared with
// socketio_chat_browser.mjs. Prints "ok" and exits 0 when every check passed; otherwise
// prints the reason (and what the tabs showed) to stderr and exits 1. Hard timeout: 20 s.
//
//   bash scripts/install-peers.sh    # once: playwright-core in tests/interop, Debian chromium
//   node tests/interop/chat_browser.mjs http://127.0.0.1:8080/ [/tmp/chat.png]
//   node tests/interop/chat_browser.mjs https://localhost:8443/ --trust-cert server.pem
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { harness } from './chat_harness.mjs';

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

const t = harness('chat_browser', { timeoutMs: 20_000 });
const { hasMember, hasMessage, hasNotice, fail } = t;
const sockets = []; // "tab A: wss://..." for every WebSocket a tab opened

async function open(label, name, room) {
  const page = await t.newPage(label);
  page.on('websocket', (ws) => sockets.push(`tab ${label}: ${ws.url()}`));
  return t.join(label, base, name, room);
}

const say = t.type;

async function main() {
  await t.launch(trustCert ? [`--ignore-certificate-errors-spki-list=${trustedSpki(trustCert)}`] : []);
  await open('A', 'alice', 'lobby');
  await open('B', 'bob', 'lobby');

  t.step = 'members lists';
  await hasMember('A', 'bob');
  await hasMember('B', 'alice');
  t.step = 'join notice';
  await hasNotice('A', /\bbob joined\b/);

  await say('A', 'hello from alice', 'enter');
  await hasMessage('B', 'alice', 'hello from alice');
  await hasMessage('A', 'alice', 'hello from alice');

  await say('B', 'hi alice', 'click');
  await hasMessage('A', 'bob', 'hi alice');

  // Compression: both tabs negotiated permessage-deflate, and a message over the server's
  // 1 KiB threshold travels compressed both ways (Chromium compresses what it sends).
  t.step = 'permessage-deflate negotiated';
  for (const label of ['A', 'B']) {
    const extensions = await t.pages[label].evaluate(() => document.querySelector('#status').dataset.extensions || '');
    if (!/permessage-deflate/.test(extensions)) await fail(`tab ${label}: no permessage-deflate in ${JSON.stringify(extensions)}`);
  }
  const long = 'compressible '.repeat(120).trim();
  await say('A', long, 'enter');
  await hasMessage('B', 'alice', long);

  const html = '<img src=x onerror="window.__xss=1"><b>bold</b>';
  await say('A', html, 'enter');
  await hasMessage('B', 'alice', html);
  t.step = 'no XSS';
  const injected = await t.pages.B.evaluate(() =>
    window.__xss === 1 || document.querySelector('#messages img, #messages .text b') !== null);
  if (injected) await fail('tab B: a message was inserted as HTML');

  await open('C', 'carol', 'other');
  t.step = 'room isolation';
  await say('A', 'only lobby', 'enter');
  await hasMessage('B', 'alice', 'only lobby');
  await t.pages.C.waitForTimeout(1000);
  const leaked = await t.pages.C.evaluate(() => [...document.querySelectorAll('#messages .message')]
    .map((m) => m.querySelector('.text')?.textContent));
  if (leaked.length) await fail(`tab C (room "other") received lobby messages: ${JSON.stringify(leaked)}`);
  const carolInLobby = await t.pages.B.evaluate(() => [...document.querySelectorAll('#members li')]
    .some((li) => li.textContent.includes('carol')));
  if (carolInLobby) await fail('tab B: carol (room "other") is listed in lobby\'s members');

  if (screenshot) {
    t.step = 'screenshot';
    await t.pages.B.bringToFront();
    await t.pages.B.screenshot({ path: screenshot });
  }
  t.step = `every WebSocket is ${wantScheme}//`;
  const wrong = sockets.filter((s) => !s.includes(` ${wantScheme}//`));
  if (!sockets.length || wrong.length) await fail(`the tabs opened ${JSON.stringify(sockets)}`);
  await t.finish();
}

t.run(main);
