// Headless-Chromium test of the chat example as two nodes of one cluster through Redis
// (examples/chat with --redis): tab A on the first node, tabs B and C on the second.
//
// A joins "lobby" as alice (node 1), B joins "lobby" as bob (node 2), C joins "other" as
// carol (node 2). Checks: A's members list shows bob and B's shows alice (each node
// announces its own members, the page shows the union); A -> B and B -> A messages cross
// the nodes; C (another room) gets neither; then node 2 is killed (SIGKILL, no goodbye)
// and within 6 s plus a margin bob is gone from A's list (a node silent for three 2 s
// periods is forgotten).
//
//   node tests/interop/chat_redis_browser.mjs http://127.0.0.1:8081/ http://127.0.0.1:8082/ PID2
import { harness } from './chat_harness.mjs';

const [first, second, secondPid] = process.argv.slice(2);
if (!first || !second || !secondPid) {
  console.error('usage: node chat_redis_browser.mjs <url node 1> <url node 2> <pid of node 2>');
  process.exit(2);
}

const t = harness('chat_redis_browser', { timeoutMs: 40_000 });
const { hasMember, hasMessage, fail } = t;

async function open(label, base, name, room) {
  await t.newPage(label);
  return t.join(label, base, name, room);
}

async function main() {
  await t.launch([]);
  await open('A', first, 'alice', 'lobby');
  await open('B', second, 'bob', 'lobby');
  await open('C', second, 'carol', 'other');

  t.step = 'members across the nodes';
  await hasMember('A', 'bob');
  await hasMember('B', 'alice');

  await t.type('A', 'hello from node 1', 'enter');
  await hasMessage('B', 'alice', 'hello from node 1');
  await t.type('B', 'hello from node 2', 'click');
  await hasMessage('A', 'bob', 'hello from node 2');

  t.step = 'room isolation across the nodes';
  await t.pages.C.waitForTimeout(1000);
  const leaked = await t.pages.C.evaluate(() => [...document.querySelectorAll('#messages .message')]
    .map((m) => m.querySelector('.text')?.textContent));
  if (leaked.length) await fail(`tab C (room "other") received lobby messages: ${JSON.stringify(leaked)}`);

  t.step = 'a node that dies leaves the members list';
  process.kill(Number(secondPid), 'SIGKILL');
  await t.until('A', 'bob gone from the members', () =>
    ![...document.querySelectorAll('#members li')].some((li) => li.textContent.includes('bob')));
  // B's and C's pages lost their server: not errors of the page, but the harness checks
  // for JavaScript errors on every page, and a failed reconnect logs none.
  await t.finish();
}

t.run(main);
