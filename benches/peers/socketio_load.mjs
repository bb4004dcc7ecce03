// Load for the Socket.IO echo benchmark: CONNECTIONS clients over the WebSocket transport
// (npm `ws` speaking Engine.IO v4 / Socket.IO v5 by hand, so the client side stays light),
// each keeping IN_FLIGHT `echo` events of SIZE bytes in flight: a reply is an event echoed
// back, answered at once by the next. After 1 s of warm-up it counts echoes for SECONDS
// and reads the server's CPU time (utime + stime of /proc/PID/stat) at both ends.
// Prints one JSON line. Usage:
//   node socketio_load.mjs ADDR SERVER_PID CONNECTIONS SIZE IN_FLIGHT SECONDS
import WebSocket from "ws";
import { cpuSeconds } from "./measure.mjs";

const [address, pid, connections, size, inFlight, seconds] = process.argv.slice(2);
const [n, bytes, depth, duration] = [connections, size, inFlight, seconds].map(Number);
const packet = `42${JSON.stringify(["echo", "x".repeat(bytes)])}`;


let counting = false;
let echoes = 0;
let ready = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(`ws://${address}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
  });
  ws.on("message", (data) => {
    const text = data.toString();
    if (text.startsWith("42")) {
      if (counting) echoes += 1;
      ws.send(packet);
    } else if (text === "2") {
      ws.send("3");
    } else if (text.startsWith("40")) {
      for (let k = 0; k < depth; k++) ws.send(packet);
      ready += 1;
      if (ready === n) start();
    } else if (text.startsWith("0")) {
      ws.send("40");
    }
  });
  ws.on("error", (error) => {
    console.error(`connection ${i}: ${error.message}`);
    process.exit(1);
  });
}

function start() {
  setTimeout(() => {
    const cpu0 = cpuSeconds(pid);
    const t0 = process.hrtime.bigint();
    counting = true;
    setTimeout(() => {
      counting = false;
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = cpuSeconds(pid) - cpu0;
      console.log(JSON.stringify({
        connections: n, size: bytes, in_flight: depth, seconds: wall,
        echoes, server_cpu_s: cpu,
        per_server_cpu_s: Math.round(echoes / cpu), per_second: Math.round(echoes / wall),
      }));
      process.exit(0);
    }, duration * 1000);
  }, 1000);
}
