// Interop client (npm socket.io-client v4) for tests/interop/socketio.rs: runs a fixed
// script against our Socket.IO server and prints what it saw as one JSON line
// `RESULT {...}`; the Rust test checks both sides. Hard timeout: 20 s (then it prints what it
// has, with "timedOut": true).
//
//   node tests/interop/socketio_client.mjs http://127.0.0.1:PORT [default|websocket]
//
// Three Engine.IO sessions (three Managers), reconnection off:
//   A: "main" on `/` and "admin" on `/admin` (token "secret"), one session for both;
//   B: `/admin` with a wrong token (refused by the middleware) and `/nope` (no such
//      namespace);
//   C: "other" on `/`.
// Script: an echo with a Buffer and its ack (callback form, all arguments) and emitWithAck;
// "main" joins room "blue" and asks for a broadcast to it, which "other" must not get; the
// room's size; "ask" makes the server emit "question" (answered) and "unanswered" (not
// answered: the server's ack times out and it says so with "timed-out"); an event the server
// never answers, whose `timeout(200).emitWithAck` must reject; then "admin"
// disconnects itself, "main" asks to be kicked, and C's transport is closed.
import { Manager } from 'socket.io-client';

const TIMEOUT_MS = 20_000;
const [url, mode = 'default'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node socketio_client.mjs <http-url> [default|websocket]');
  process.exit(2);
}
const transports = mode === 'websocket' ? ['websocket'] : ['polling', 'websocket'];
const options = { transports, reconnection: false };

const result = { mode, timedOut: false, steps: [] };

function finish() {
  console.log('RESULT ' + JSON.stringify(result));
  process.exit(0);
}
setTimeout(() => {
  result.timedOut = true;
  finish();
}, TIMEOUT_MS).unref();

// JSON-friendly: a Buffer or ArrayBuffer becomes {binary: [...]}.
function normalize(value) {
  if (value instanceof ArrayBuffer) return { binary: Array.from(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) return { binary: Array.from(value) };
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

const once = (socket, event) => new Promise((resolve) => socket.once(event, resolve));

async function connected(socket) {
  if (!socket.connected) await once(socket, 'connect');
  return socket;
}

async function connectError(socket) {
  const error = await once(socket, 'connect_error');
  return { message: error.message, data: error.data ?? null };
}

async function main() {
  const a = new Manager(url, options);
  const b = new Manager(url, options);
  const c = new Manager(url, options);
  const mainSocket = a.socket('/', { auth: { name: 'main' } });
  const admin = a.socket('/admin', { auth: { name: 'admin', token: 'secret' } });
  const refused = b.socket('/admin', { auth: { name: 'intruder', token: 'wrong' } });
  const unknown = b.socket('/nope', { auth: { name: 'lost' } });
  const other = c.socket('/', { auth: { name: 'other' } });
  const disconnects = {};
  for (const [name, socket] of [['main', mainSocket], ['admin', admin], ['other', other]]) {
    socket.on('disconnect', (reason) => {
      disconnects[name] = reason;
    });
  }
  const refusedError = connectError(refused);
  const unknownError = connectError(unknown);
  await Promise.all([connected(mainSocket), connected(admin), connected(other)]);
  result.sameSession = mainSocket.io === admin.io;
  result.ids = { main: mainSocket.id, admin: admin.id, other: other.id };
  result.refused = await refusedError;
  result.unknown = await unknownError;
  result.steps.push('connected');

  // An event and its ack: every argument back, the Buffer too.
  result.echo = normalize(
    await new Promise((resolve) => {
      mainSocket.emit('echo', 'hi', Buffer.from([1, 2, 3]), { n: 1 }, (...answer) => resolve(answer));
    }),
  );
  result.echoWithAck = normalize(await mainSocket.emitWithAck('echo', Buffer.from([4, 5])));
  result.steps.push('echoed');

  // A room broadcast: "main" gets it, "other" does not.
  let otherNews = 0;
  other.on('news', () => {
    otherNews += 1;
  });
  const news = once(mainSocket, 'news');
  await mainSocket.emitWithAck('join', 'blue');
  await mainSocket.emitWithAck('announce', 'blue', 'hello blue');
  result.news = await news;
  // Anything the server sent "other" before answering this came first.
  await other.emitWithAck('sync');
  result.otherNews = otherNews;
  result.roomSize = await mainSocket.emitWithAck('room-size', 'blue');
  result.transport = mainSocket.io.engine.transport.name;
  result.steps.push('broadcast');

  // The server's acks: one answered, one left to time out.
  mainSocket.on('question', (text, answer) => answer(`answer to ${text}`));
  mainSocket.on('unanswered', () => {});
  const timedOut = once(mainSocket, 'timed-out');
  mainSocket.emit('ask');
  result.serverAckError = await timedOut;
  // The client's own ack timeout: an event the server never answers rejects.
  result.clientAckError = await mainSocket
    .timeout(200)
    .emitWithAck('unheard')
    .then(() => 'resolved', (error) => String(error.message));
  result.steps.push('server acks');

  // Disconnects: the client leaves /admin, the server kicks "main", C's transport closes.
  admin.disconnect();
  const kicked = once(mainSocket, 'disconnect');
  mainSocket.emit('kick-me');
  await kicked;
  const closed = once(other, 'disconnect');
  c.engine.close();
  await closed;
  result.disconnects = disconnects;
  result.steps.push('disconnected');
  a.engine?.close();
  b.engine?.close();
  finish();
}

main().catch((error) => {
  result.error = String(error && error.stack ? error.stack : error);
  finish();
});
