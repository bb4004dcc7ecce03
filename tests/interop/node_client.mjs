// Interop client (Node `ws` v8): runs a fixed script against an ECHO server and checks every
// reply. Exits 0 and prints "ok" only when every check passed; otherwise prints the reason to
// stderr and exits 1. Hard timeout: 20 s.
//
// Script: text "hello"; text "κόσμε 🙂"; 64 KiB random binary; 1 MiB random binary; 100 text
// messages "m0".."m99" sent back to back (must come back in order); ping "p1" -> pong "p1";
// close 1000 "done" -> close event with code 1000.
//
//   bash scripts/install-peers.sh              # once: installs tests/interop/node_modules
//   node tests/interop/node_client.mjs ws://127.0.0.1:9101/ [--deflate]
//   node tests/interop/node_client.mjs wss://localhost:9101/ --ca ca.pem [--deflate]
//
// With --deflate, permessage-deflate is offered (every message compressed: threshold 0) and
// must be negotiated. With --ca FILE (for a wss:// URL), the server's certificate must be
// issued by a CA in FILE: Node's own roots are replaced, not added to.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const TIMEOUT_MS = 20_000;
const url = process.argv[2];
const deflate = process.argv.includes('--deflate');
const caAt = process.argv.indexOf('--ca');
if (!url || (caAt > 0 && !process.argv[caAt + 1])) {
  console.error('usage: node node_client.mjs <ws-url> [--deflate] [--ca ca.pem]');
  process.exit(2);
}
const ca = caAt > 0 ? readFileSync(process.argv[caAt + 1]) : undefined;

let step = 'connecting';
function fail(reason) {
  console.error(`node_client: FAILED during "${step}": ${reason}`);
  process.exit(1);
}
setTimeout(() => fail(`overall timeout of ${TIMEOUT_MS / 1000} s exceeded`), TIMEOUT_MS);

const ws = new WebSocket(url, {
  perMessageDeflate: deflate ? { threshold: 0 } : false,
  handshakeTimeout: 5000,
  // Passed on to tls.connect for wss://; certificate checks stay on (rejectUnauthorized).
  ...(ca ? { ca } : {}),
});

// Incoming events are queued; `next(kind)` waits for the next one and checks its kind.
const queue = [];
let waiter = null;
function push(event) {
  if (waiter) {
    const w = waiter;
    waiter = null;
    w(event);
  } else {
    queue.push(event);
  }
}
function next(kind) {
  const got = queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => { waiter = r; });
  return got.then((event) => {
    if (event.kind !== kind) {
      fail(`expected a ${kind} event, got ${event.kind}${event.detail ? ` (${event.detail})` : ''}`);
    }
    return event;
  });
}

let upgradeSocket = null; // the TLS socket the 101 response came on (wss://)
ws.on('upgrade', (response) => { upgradeSocket = response.socket; });
ws.on('message', (data, isBinary) => push({ kind: 'message', data, isBinary }));
ws.on('pong', (data) => push({ kind: 'pong', data }));
ws.on('close', (code, reason) =>
  push({ kind: 'close', code, reason: reason.toString(), detail: `code ${code} reason "${reason}"` }));
ws.on('error', (err) => fail(`socket error: ${err.message}`));
ws.on('unexpected-response', (_req, res) => fail(`handshake refused: HTTP ${res.statusCode}`));

function show(s) {
  return s.length > 60 ? JSON.stringify(s.slice(0, 60)) + `… (${s.length} chars)` : JSON.stringify(s);
}

async function expectText(expected) {
  const { data, isBinary } = await next('message');
  if (isBinary) fail(`expected text ${show(expected)}, got a binary message of ${data.length} bytes`);
  const text = data.toString('utf8');
  if (text !== expected) fail(`expected text ${show(expected)}, got ${show(text)}`);
}

async function expectBinary(expected) {
  const { data, isBinary } = await next('message');
  if (!isBinary) fail(`expected binary of ${expected.length} bytes, got a text message`);
  if (!Buffer.isBuffer(data) || !data.equals(expected)) {
    fail(`binary echo differs: sent ${expected.length} bytes, got ${data.length} bytes`);
  }
}

async function main() {
  await new Promise((resolve) => ws.once('open', resolve));
  if (ca) {
    step = 'TLS';
    if (!upgradeSocket?.encrypted || !upgradeSocket.authorized) {
      fail(`not an authorized TLS connection: ${upgradeSocket?.authorizationError}`);
    }
  }
  if (deflate && !/permessage-deflate/.test(ws.extensions)) fail(`permessage-deflate not negotiated: ${JSON.stringify(ws.extensions)}`);

  step = 'text hello';
  ws.send('hello');
  await expectText('hello');

  step = 'text utf-8';
  ws.send('κόσμε 🙂');
  await expectText('κόσμε 🙂');

  step = 'binary 64 KiB';
  const b64k = randomBytes(65536);
  ws.send(b64k, { binary: true });
  await expectBinary(b64k);

  step = 'binary 1 MiB';
  const b1m = randomBytes(1048576);
  ws.send(b1m, { binary: true });
  await expectBinary(b1m);

  step = '100 messages in order';
  for (let i = 0; i < 100; i++) ws.send(`m${i}`);
  for (let i = 0; i < 100; i++) await expectText(`m${i}`);

  step = 'ping/pong';
  ws.ping(Buffer.from('p1'));
  const { data: pong } = await next('pong');
  if (pong.toString() !== 'p1') fail(`expected pong payload "p1", got ${JSON.stringify(pong.toString())}`);

  step = 'close';
  ws.close(1000, 'done');
  const { code } = await next('close');
  if (code !== 1000) fail(`expected close code 1000, got ${code}`);

  console.log('ok');
  process.exit(0);
}

main().catch((err) => fail(err?.stack || String(err)));
