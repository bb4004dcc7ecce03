// Headless-Chromium test of the socketio_chat example's page (examples/socketio_chat/
// index.html) against a running socketio_chat server: the page at `/`, the socket.io-client
// bundle at `/socket.io.min.js`, Socket.IO at `/socket.io/`.
//
// One browser, one context, three tabs (each page styled by the chat example's stylesheet): A joins "lobby" as alice, B joins "lobby" as bob, C
// joins "other" as carol. Checks: each tab's socket started on long-polling and upgraded to
// WebSocket (`socket.io.engine.transport.name`, and the requests the tab made); A and B see
// each other in the members list, C sees neither and they do not see C; the rooms list shows
// lobby (2) and other (1); A gets the notice "bob joined"; A -> B and B -> A messages, each
// shown "delivered" in the sender's tab when its ack comes; HTML in a message is shown as text;
// C (room "other") does not get alice's "only lobby" while B does; C switches to lobby from the
// rooms list (the `join` event): A lists carol and carol gets alice's next message; C goes back
// to the join form (`leave`): A no longer lists carol; A's connection drops, and what A types
// meanwhile reaches B once socket.io-client has reconnected and rejoined lobby; B's tab
// closes: A no longer lists bob.
// Optional second argument: a PNG path for a screenshot of tab A (1000×700) after the exchange.
// The harness (launch, waits, failure reports) is chat_harness.mjs, shared with
// chat_browser.mjs. Prints "ok" and exits 0 when every check passed; otherwise prints the reason (and what the
// tabs showed) to stderr and exits 1. Hard timeout: 30 s.
//
//   bash scripts/install-peers.sh    # once: playwright-core and socket.io-client, Debian chromium
//   node tests/interop/socketio_chat_browser.mjs http://127.0.0.1:8080/ [/tmp/chat.png]
import { WAIT_MS, harness } from './chat_harness.mjs';

const [base, screenshot] = process.argv.slice(2);
if (!base) {
  console.error('usage: node socketio_chat_browser.mjs <http-url> [screenshot.png]');
  process.exit(2);
}

const transports = {}; // label -> ["polling", "websocket", ...] in the order the tab used them
const t = harness('socketio_chat_browser', {
  timeoutMs: 30_000,
  inspect: () => `transport=${window.chat?.socket?.io?.engine?.transport?.name ?? '(none)'}`,
  detail: () => `transports: ${JSON.stringify(transports)}`,
});
const { until, hasMember, hasMessage, hasNotice, fail } = t;

const memberNames = () => [...document.querySelectorAll('#members li')]
  .map((li) => li.textContent.replace(/\(you\)/, '').trim());

const lacksMember = (label, name) => until(label, `members list still shows ${JSON.stringify(name)}`,
  (name) => ![...document.querySelectorAll('#members li')]
    .some((li) => li.textContent.replace(/\(you\)/, '').trim() === name), name);

// The sender's own copy of `text`, marked delivered: the server's ack came.
const delivered = (label, text) => until(label, `own message ${JSON.stringify(text)} never shown "delivered"`,
  (text) => [...document.querySelectorAll('#messages .message.own.delivered')].some((m) =>
    m.querySelector('.text')?.textContent === text && m.querySelector('.state')?.textContent === 'delivered'),
  text);

const hasRoom = (label, room, count) => until(label, `rooms list never showed #${room} (${count})`,
  ([room, count]) => [...document.querySelectorAll('#rooms li')].some((li) =>
    li.querySelector('.room-name')?.textContent === `#${room}` && li.querySelector('.count')?.textContent === String(count)),
  [room, count]);

function watchTransports(label, page) {
  transports[label] = [];
  const seen = (name) => {
    const list = transports[label];
    if (list[list.length - 1] !== name) list.push(name);
  };
  page.on('request', (request) => {
    if (request.url().includes('/socket.io/') && request.url().includes('transport=polling')) seen('polling');
  });
  page.on('websocket', (ws) => {
    if (ws.url().includes('/socket.io/') && ws.url().includes('transport=websocket')) seen('websocket');
  });
}

async function open(label, name, room) {
  const page = await t.newPage(label);
  watchTransports(label, page);
  await t.join(label, base, name, room);
  // The chat example's stylesheet, which the example puts in this page, is there.
  const radius = await page.evaluate(() => getComputedStyle(document.querySelector('#send')).borderRadius);
  if (radius !== '10px') await fail(`tab ${label}: the chat stylesheet is missing (the Send button's radius is ${radius})`);
  t.step = `tab ${label} upgrades to websocket`;
  await until(label, 'socket.io.engine.transport.name never became "websocket"',
    () => window.chat?.socket?.io?.engine?.transport?.name === 'websocket');
  const used = transports[label];
  if (used[0] !== 'polling' || !used.includes('websocket')) {
    await fail(`tab ${label}: expected long-polling then websocket, the tab used ${JSON.stringify(used)}`);
  }
  return page;
}

async function say(label, text, how) {
  await t.type(label, text, how);
  await delivered(label, text);
}

async function main() {
  await t.launch();

  await open('A', 'alice', 'lobby');
  await open('B', 'bob', 'lobby');

  t.step = 'members lists';
  await hasMember('A', 'bob');
  await hasMember('B', 'alice');
  t.step = 'join notice';
  await hasNotice('A', /\bbob joined\b/);

  await say('A', 'hello from alice', 'enter');
  await hasMessage('B', 'alice', 'hello from alice');

  await say('B', 'hi alice', 'click');
  await hasMessage('A', 'bob', 'hi alice');

  const html = '<img src=x onerror="window.__xss=1"><b>bold</b>';
  await say('A', html, 'enter');
  await hasMessage('B', 'alice', html);
  t.step = 'no XSS';
  const injected = await t.pages.B.evaluate(() =>
    window.__xss === 1 || document.querySelector('#messages img, #messages .text b') !== null);
  if (injected) await fail('tab B: a message was inserted as HTML');

  await open('C', 'carol', 'other');
  t.step = 'rooms list';
  await hasRoom('A', 'lobby', 2);
  await hasRoom('A', 'other', 1);
  await hasRoom('C', 'lobby', 2);
  t.step = 'room isolation';
  await say('A', 'only lobby', 'enter');
  await hasMessage('B', 'alice', 'only lobby');
  await t.pages.C.waitForTimeout(1000);
  const leaked = await t.pages.C.evaluate(() => [...document.querySelectorAll('#messages .message')]
    .map((m) => m.querySelector('.text')?.textContent));
  if (leaked.length) await fail(`tab C (room "other") received lobby messages: ${JSON.stringify(leaked)}`);
  for (const label of ['A', 'B']) {
    const names = await t.pages[label].evaluate(memberNames);
    if (names.includes('carol')) await fail(`tab ${label}: carol (room "other") is listed in lobby's members`);
  }
  const cMembers = await t.pages.C.evaluate(memberNames);
  if (JSON.stringify(cMembers) !== '["carol"]') await fail(`tab C: members of "other" are ${JSON.stringify(cMembers)}`);

  t.step = 'tab C switches to lobby from the rooms list';
  await t.pages.C.click('#rooms li button:has-text("#lobby")');
  await until('C', '#room-title never showed "lobby"',
    () => document.querySelector('#room-title')?.textContent.trim() === 'lobby');
  await hasMember('C', 'alice');
  await hasMember('C', 'bob');
  await hasMember('A', 'carol');
  await hasNotice('A', /\bcarol joined\b/);
  await hasRoom('A', 'lobby', 3);
  await say('A', 'welcome carol', 'enter');
  await hasMessage('C', 'alice', 'welcome carol');
  await hasMessage('B', 'alice', 'welcome carol');

  if (screenshot) {
    t.step = 'screenshot';
    await t.pages.A.bringToFront();
    await t.pages.A.screenshot({ path: screenshot });
  }

  t.step = 'tab C leaves the room (back to the join form)';
  await t.pages.C.click('#leave');
  await t.pages.C.waitForSelector('#join-form', { state: 'visible', timeout: WAIT_MS });
  await lacksMember('A', 'carol');
  await hasNotice('A', /\bcarol left\b/);

  // A's connection drops (its Engine.IO session is closed under it): socket.io-client
  // reconnects, its auth rejoins lobby, and the message typed meanwhile (queued in its
  // buffer) goes out after the rejoin: B gets it, A sees it delivered.
  t.step = 'tab A loses its connection';
  await t.pages.A.evaluate(() => window.chat.socket.io.engine.close());
  await until('A', 'never showed "reconnecting…"',
    () => document.querySelector('#status')?.textContent.trim() !== 'connected');
  await say('A', 'typed while away', 'enter');
  await hasMessage('B', 'alice', 'typed while away');
  await hasNotice('A', /Reconnected/);
  await until('A', 'socket.io.engine.transport.name never became "websocket" again',
    () => window.chat?.socket?.io?.engine?.transport?.name === 'websocket');
  await hasMember('A', 'bob');
  await hasMember('B', 'alice');

  t.step = 'tab B closes';
  await t.pages.B.close();
  delete t.pages.B;
  await lacksMember('A', 'bob');
  await hasNotice('A', /\bbob left\b/);
  await hasRoom('A', 'lobby', 1);

  await t.finish();
}

t.run(main);
