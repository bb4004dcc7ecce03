// Load for the cross-node broadcast benchmark (scripts/bench-redis.sh): CLIENTS receiving
// clients on each of several nodes of one cluster through Redis, the first client of the
// first node also the sender, keeping IN_FLIGHT broadcasts in flight. Each is delivered by
// the node it was sent to to its own clients, published on Redis, and delivered by every
// other node to its clients; the next one goes out once every client of every node has its
// copy (closed loop on the whole cluster, as socketio_broadcast_load.mjs on one server).
//
// PROTO `sio`: the clients speak Engine.IO v4 / Socket.IO v5 by hand over npm `ws` (a ping
// "2" is answered "3"), CONNECT to `/`, and the sender emits `bcast` with one string
// argument of SIZE bytes (examples/socketio_echo.rs and benches/peers/socketio_echo.mjs,
// both with --redis). PROTO `raw`: plain WebSocket clients of examples/redis_broadcast.rs,
// the sender's text message of SIZE bytes is what every client gets.
//
// The argument starts with the broadcast's sequence number (8 decimal digits) and the
// sender's clock when it sent it (microseconds since this process started, 12 digits):
// the sequence tells each delivery's broadcast (a delivery of a broadcast not in flight
// fails the run), the time gives its latency, from the sender's send to the client's
// receipt, on this one process's clock. Latencies are kept apart for the clients of the
// sending node (`local`) and of the other nodes (`remote`: through Redis); besides every
// delivery's, the first copy's on each node (`*_first`) and the last copy's (`complete`).
//
// Once every client is connected it prints the count to stderr, warms up for 1 s, then
// counts deliveries for SECONDS and reads the CPU time (utime + stime of /proc/PID/stat) of
// every node and of Redis, its own, and how busy each core was (/proc/stat) at both ends.
// Then it stops sending, waits (up to 10 s) for the broadcasts in flight, and checks that
// every client received every broadcast sent: `delivered` is deliveries / (broadcasts x
// clients), 1 when none was lost or doubled. Prints one JSON line. Usage:
//   node redis_broadcast_load.mjs PROTO ADDR,ADDR,... PID,PID,... REDIS_PID CLIENTS SIZE IN_FLIGHT SECONDS
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { coreTimes, cpuSeconds, ownCpuSeconds } from "./measure.mjs";

const [proto, addressList, pidList, redisPid, clients, size, inFlight, seconds] =
  process.argv.slice(2);
const addresses = addressList.split(",");
const pids = pidList.split(",");
const [perNode, bytes, depth, duration] = [clients, size, inFlight, seconds].map(Number);
const nodes = addresses.length;
const n = perNode * nodes;
const SEQ_DIGITS = 8;
const TIME_DIGITS = 12;
const sio = proto === "sio";
if (!sio && proto !== "raw") throw new Error(`PROTO is sio or raw, not ${proto}`);
// The argument's first byte in a delivery: after `42["bcast","` for Socket.IO.
const PREFIX = sio ? '42["bcast","'.length : 0;
const CONNECTING_AT_ONCE = 50;
const MAX_LATENCY_US = 2_000_000; // histogram range, 1 µs buckets; beyond, counted at the top
if (bytes < SEQ_DIGITS + TIME_DIGITS) throw new Error(`SIZE must be at least ${SEQ_DIGITS + TIME_DIGITS}`);

const nowUs = () => Math.floor(performance.now() * 1000);

const sockets = new Array(n);
const receivedBy = new Uint32Array(n);
// Broadcast `seq` is in flight in slot seq % depth, until `copies` of it reach n.
const slotSeq = new Int32Array(depth).fill(-1);
const copies = new Uint32Array(depth);
// Latencies, µs: of every delivery (`local`, `remote`); of each broadcast's first copy on
// the sending node and on each other node (`local_first`, `remote_first`: the hop to a node
// and through it, before it has written to its other sockets); of its last copy anywhere
// (`complete`: the whole fan-out).
const histogram = () => new Uint32Array(MAX_LATENCY_US + 1);
const histograms = {
  local: histogram(), remote: histogram(), local_first: histogram(), remote_first: histogram(),
  complete: histogram(),
};
// Whether broadcast slot s has reached node j yet: seen[s * nodes + j].
const seen = new Uint8Array(depth * nodes);
let nextSeq = 0;
let sending = true;
let inFlightNow = 0;
let counting = false;
let countedDeliveries = 0;
let connected = 0;

function sendBroadcast() {
  const seq = nextSeq++;
  const argument = String(seq).padStart(SEQ_DIGITS, "0") +
    String(nowUs()).padStart(TIME_DIGITS, "0") + "x".repeat(bytes - SEQ_DIGITS - TIME_DIGITS);
  slotSeq[seq % depth] = seq;
  copies[seq % depth] = 0;
  seen.fill(0, (seq % depth) * nodes, (seq % depth + 1) * nodes);
  inFlightNow += 1;
  sockets[0].send(sio ? `42${JSON.stringify(["bcast", argument])}` : argument);
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

function onDelivery(index, data) {
  let seq = 0;
  let k = PREFIX;
  for (const end = PREFIX + SEQ_DIGITS; k < end; k++) seq = seq * 10 + data[k] - 48;
  const slot = seq % depth;
  if (slotSeq[slot] !== seq) fail(`client ${index}: broadcast ${seq} was not in flight`);
  receivedBy[index] += 1;
  let latency = 0;
  if (counting) {
    countedDeliveries += 1;
    let sent = 0;
    for (const end = k + TIME_DIGITS; k < end; k++) sent = sent * 10 + data[k] - 48;
    latency = Math.min(nowUs() - sent, MAX_LATENCY_US);
    const node = Math.floor(index / perNode);
    (node === 0 ? histograms.local : histograms.remote)[latency] += 1;
    if (!seen[slot * nodes + node]) {
      seen[slot * nodes + node] = 1;
      (node === 0 ? histograms.local_first : histograms.remote_first)[latency] += 1;
    }
  }
  copies[slot] += 1;
  if (copies[slot] === n) {
    if (counting) histograms.complete[latency] += 1;
    slotSeq[slot] = -1;
    inFlightNow -= 1;
    if (sending) sendBroadcast();
    else if (inFlightNow === 0) finish();
  }
}

function onConnected(index) {
  connected += 1;
  if (connected === n) start();
  if (index + CONNECTING_AT_ONCE < n) open(index + CONNECTING_AT_ONCE);
}

// Client `index` is on node index / perNode.
function open(index) {
  const address = addresses[Math.floor(index / perNode)];
  const url = sio ? `ws://${address}/socket.io/?EIO=4&transport=websocket` : `ws://${address}/`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets[index] = ws;
  if (sio) {
    ws.on("message", (data) => {
      // data is a Buffer: "42" then the event, no decoding to a string on the hot path.
      if (data[0] === 0x34 && data[1] === 0x32) {
        onDelivery(index, data);
        return;
      }
      const text = data.toString();
      if (text === "2") ws.send("3");
      else if (text.startsWith("40")) onConnected(index);
      else if (text.startsWith("0")) ws.send("40");
    });
  } else {
    ws.on("open", () => onConnected(index));
    ws.on("message", (data) => onDelivery(index, data));
  }
  ws.on("error", (error) => fail(`client ${index}: ${error.message}`));
  ws.on("close", () => {
    if (sending) fail(`client ${index}: closed by the server`);
  });
}

function percentile(histogram, q) {
  let total = 0;
  for (const count of histogram) total += count;
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let us = 0; us < histogram.length; us++) {
    seen += histogram[us];
    if (seen >= rank) return us;
  }
  return histogram.length - 1;
}

let measured = null;
let drainTimer = null;

function start() {
  console.error(`CONNECTED ${connected}`);
  for (let k = 0; k < depth; k++) sendBroadcast();
  setTimeout(() => {
    const cpu0 = pids.map(cpuSeconds);
    const redis0 = cpuSeconds(redisPid);
    const own0 = ownCpuSeconds();
    const cores0 = coreTimes();
    const t0 = process.hrtime.bigint();
    const broadcasts0 = nextSeq;
    counting = true;
    setTimeout(() => {
      counting = false;
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const nodeCpu = pids.map((pid, i) => cpuSeconds(pid) - cpu0[i]);
      const redisCpu = cpuSeconds(redisPid) - redis0;
      const own = ownCpuSeconds() - own0;
      const cores = coreTimes().map((c, i) =>
        Number(((c.busy - cores0[i].busy) / (c.total - cores0[i].total)).toFixed(2)));
      measured = {
        wall, nodeCpu, redisCpu, own, cores, deliveries: countedDeliveries,
        broadcastsSent: nextSeq - broadcasts0,
      };
      sending = false;
      if (inFlightNow === 0) finish();
      else drainTimer = setTimeout(finish, 10_000);
    }, duration * 1000);
  }, 1000);
}

function finish() {
  clearTimeout(drainTimer);
  const { wall, nodeCpu, redisCpu, own, cores, deliveries, broadcastsSent } = measured;
  const broadcasts = nextSeq;
  let total = 0;
  let least = Infinity;
  let most = 0;
  for (const count of receivedBy) {
    total += count;
    least = Math.min(least, count);
    most = Math.max(most, count);
  }
  const cpu = nodeCpu.reduce((a, b) => a + b, 0);
  const round = (x) => Number(x.toFixed(2));
  console.log(JSON.stringify({
    proto, nodes, clients_per_node: perNode, clients: connected, size: bytes, in_flight: depth,
    seconds: round(wall), deliveries, broadcasts_per_second: Math.round(broadcastsSent / wall),
    per_second: Math.round(deliveries / wall), per_server_cpu_s: Math.round(deliveries / cpu),
    server_cpu_s: round(cpu), node_cpu_s: nodeCpu.map(round), redis_cpu_s: round(redisCpu),
    load_cpu_s: round(own), cores_busy: cores,
    ...Object.fromEntries(Object.entries(histograms).flatMap(([name, h]) => [
      [`${name}_p50_us`, percentile(h, 0.5)], [`${name}_p99_us`, percentile(h, 0.99)]])),
    broadcasts, delivered: total / (broadcasts * n), least_per_client: least, most_per_client: most,
  }));
  process.exit(0);
}

for (let i = 0; i < Math.min(CONNECTING_AT_ONCE, n); i++) open(i);
