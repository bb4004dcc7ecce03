// Load for the Socket.IO broadcast benchmark: CLIENTS receiving clients on `/` over the
// WebSocket transport (npm `ws` speaking Engine.IO v4 / Socket.IO v5 by hand, as
// socketio_load.mjs, so the client side stays light; a ping "2" is answered "3"), the
// first of which also sends: it keeps IN_FLIGHT `bcast` events, one string argument of
// SIZE bytes, in flight. Closed loop on the whole broadcast: the server sends each to every
// client (the sender included), and the next one goes out once the last client has its
// copy, so the load never lets unread deliveries pile up in the server or in the kernel.
// The argument starts with the broadcast's sequence number (8 decimal digits), which tells
// each delivery's broadcast; a delivery of a broadcast not in flight fails the run.
//
// Once every client is CONNECTed it prints the count to stderr, warms up for 1 s, then
// counts deliveries for SECONDS and reads the server's CPU time (utime + stime of
// /proc/PID/stat), its own, and how busy each core was (/proc/stat) at both ends. Then it stops sending and waits (up to 10 s)
// for the broadcasts in flight, and checks that every client received every broadcast
// sent: `delivered` is deliveries / (broadcasts x clients), 1 when none was lost. Prints
// one JSON line. Usage:
//   node socketio_broadcast_load.mjs ADDR SERVER_PID CLIENTS SIZE IN_FLIGHT SECONDS
import WebSocket from "ws";
import { coreTimes, cpuSeconds, ownCpuSeconds } from "./measure.mjs";

const [address, pid, clients, size, inFlight, seconds] = process.argv.slice(2);
const [n, bytes, depth, duration] = [clients, size, inFlight, seconds].map(Number);
const SEQ_DIGITS = 8;
const PREFIX = '42["bcast","'; // then the sequence number: its bytes start here
const CONNECTING_AT_ONCE = 50;
if (bytes < SEQ_DIGITS) throw new Error(`SIZE must be at least ${SEQ_DIGITS}`);


const sockets = new Array(n);
const receivedBy = new Uint32Array(n);
// Broadcast `seq` is in flight in slot seq % depth, until `copies` of it reach n.
const slotSeq = new Int32Array(depth).fill(-1);
const copies = new Uint32Array(depth);
let nextSeq = 0;
let sending = true;
let inFlightNow = 0;
let counting = false;
let countedDeliveries = 0;
let connected = 0;

function sendBroadcast() {
  const seq = nextSeq++;
  const argument = String(seq).padStart(SEQ_DIGITS, "0") + "x".repeat(bytes - SEQ_DIGITS);
  slotSeq[seq % depth] = seq;
  copies[seq % depth] = 0;
  inFlightNow += 1;
  sockets[0].send(`42${JSON.stringify(["bcast", argument])}`);
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

function onDelivery(index, data) {
  let seq = 0;
  for (let k = PREFIX.length; k < PREFIX.length + SEQ_DIGITS; k++) seq = seq * 10 + data[k] - 48;
  const slot = seq % depth;
  if (slotSeq[slot] !== seq) fail(`client ${index}: broadcast ${seq} was not in flight`);
  receivedBy[index] += 1;
  if (counting) countedDeliveries += 1;
  copies[slot] += 1;
  if (copies[slot] === n) {
    slotSeq[slot] = -1;
    inFlightNow -= 1;
    if (sending) sendBroadcast();
    else if (inFlightNow === 0) finish();
  }
}

function open(index) {
  const ws = new WebSocket(`ws://${address}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
  });
  sockets[index] = ws;
  ws.on("message", (data) => {
    // data is a Buffer: "42" then the event, no decoding to a string on the hot path.
    if (data[0] === 0x34 && data[1] === 0x32) {
      onDelivery(index, data);
      return;
    }
    const text = data.toString();
    if (text === "2") ws.send("3");
    else if (text.startsWith("40")) {
      connected += 1;
      if (connected === n) start();
      if (index + CONNECTING_AT_ONCE < n) open(index + CONNECTING_AT_ONCE);
    } else if (text.startsWith("0")) ws.send("40");
  });
  ws.on("error", (error) => fail(`client ${index}: ${error.message}`));
  ws.on("close", () => {
    if (sending) fail(`client ${index}: closed by the server`);
  });
}

let measured = null;
let drainTimer = null;

function start() {
  console.error(`CONNECTED ${connected}`);
  for (let k = 0; k < depth; k++) sendBroadcast();
  setTimeout(() => {
    const cpu0 = cpuSeconds(pid);
    const own0 = ownCpuSeconds();
    const cores0 = coreTimes();
    const t0 = process.hrtime.bigint();
    counting = true;
    setTimeout(() => {
      counting = false;
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = cpuSeconds(pid) - cpu0;
      const own = ownCpuSeconds() - own0;
      const cores = coreTimes().map((c, i) =>
        Number(((c.busy - cores0[i].busy) / (c.total - cores0[i].total)).toFixed(2)));
      measured = { wall, cpu, own, cores, deliveries: countedDeliveries };
      sending = false;
      if (inFlightNow === 0) finish();
      else drainTimer = setTimeout(finish, 10_000);
    }, duration * 1000);
  }, 1000);
}

function finish() {
  clearTimeout(drainTimer);
  const { wall, cpu, own, cores, deliveries } = measured;
  const broadcasts = nextSeq;
  let total = 0;
  let least = Infinity;
  let most = 0;
  for (const count of receivedBy) {
    total += count;
    least = Math.min(least, count);
    most = Math.max(most, count);
  }
  console.log(JSON.stringify({
    clients: connected, size: bytes, in_flight: depth, seconds: wall,
    deliveries, server_cpu_s: cpu, load_cpu_s: own, cores_busy: cores,
    per_server_cpu_s: Math.round(deliveries / cpu), per_second: Math.round(deliveries / wall),
    broadcasts, delivered: total / (broadcasts * n),
    least_per_client: least, most_per_client: most,
  }));
  process.exit(0);
}

for (let i = 0; i < Math.min(CONNECTING_AT_ONCE, n); i++) open(i);
