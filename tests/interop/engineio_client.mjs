// Interop client (npm engine.io-client v6, EIO=4) for tests/interop/engineio.rs: runs a fixed
// script against our Engine.IO server and prints what it saw as one JSON line
// `RESULT {...}`; the Rust test checks both sides. Hard timeout: 20 s (then it prints what it
// has, with "timedOut": true).
//
//   node tests/interop/engineio_client.mjs http://127.0.0.1:PORT [default|websocket|polling]
//
// `default` is the client's own choice (long-polling, then the upgrade to WebSocket);
// `websocket` and `polling` allow that transport alone.
//
// Script: on open, send the text "hello" and the binary <01 02 03>; the server sends
// "welcome" and <09 08 07> on its own and echoes ours. In `default` mode, once upgraded,
// send "after upgrade" (echoed too). Then wait for two heartbeats (the server pings; the
// client answers by itself), send "close me" and wait for the server to close the session.
import { Socket } from 'engine.io-client';

const TIMEOUT_MS = 20_000;
const [url, mode = 'default'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node engineio_client.mjs <http-url> [default|websocket|polling]');
  process.exit(2);
}
const transports = { websocket: ['websocket'], polling: ['polling'] }[mode] ?? ['polling', 'websocket'];

const result = {
  mode,
  openedOn: null,
  upgradedTo: null,
  received: [],
  pings: 0,
  closeReason: null,
  finalTransport: null,
  timedOut: false,
};
// Echoes expected before the heartbeat phase: welcome, <9,8,7>, hello, <1,2,3>, and after an
// upgrade its own echo.
const expected = mode === 'default' ? 5 : 4;
let askedToClose = false;

function normalize(data) {
  if (typeof data === 'string') return { text: data };
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  return { binary: Array.from(bytes) };
}

function finish() {
  console.log('RESULT ' + JSON.stringify(result));
  process.exit(0);
}

const socket = new Socket(url, { transports });
setTimeout(() => {
  result.timedOut = true;
  finish();
}, TIMEOUT_MS).unref();

function next() {
  if (askedToClose || result.received.length < expected) return;
  if (mode === 'default' && result.upgradedTo === null) return;
  if (result.pings < 2) return;
  askedToClose = true;
  socket.send('close me');
}

socket.on('open', () => {
  result.openedOn = socket.transport.name;
  socket.send('hello');
  socket.send(Uint8Array.from([1, 2, 3]));
});
socket.on('upgrade', (transport) => {
  result.upgradedTo = transport.name;
  socket.send('after upgrade');
  next();
});
socket.on('message', (data) => {
  result.received.push(normalize(data));
  next();
});
socket.on('ping', () => {
  result.pings += 1;
  next();
});
socket.on('close', (reason) => {
  result.closeReason = reason;
  result.finalTransport = socket.transport ? socket.transport.name : result.upgradedTo ?? result.openedOn;
  finish();
});
socket.on('error', (error) => {
  console.error('engine.io-client error:', error && error.message);
});
