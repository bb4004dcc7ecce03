// Opens N idle Socket.IO connections (WebSocket transport, namespace "/") to ADDR with
// npm `ws`, speaking the few packets an idle client needs (Engine.IO open, Socket.IO
// CONNECT, pong for every ping), so that the client side stays light. Prints
// `CONNECTED n seconds` once every socket has its CONNECT reply, then keeps them until
// stdin closes. Usage: node socketio_idle_clients.mjs ADDR N
import WebSocket from "ws";

const [address, count] = [process.argv[2], Number(process.argv[3] ?? 10000)];
const started = Date.now();
let connected = 0;
const sockets = [];
const CHAINS = 50;

function open(index) {
  const ws = new WebSocket(`ws://${address}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
  });
  ws.on("message", (data) => {
    const text = data.toString();
    if (text.startsWith("0")) ws.send("40");
    else if (text === "2") ws.send("3");
    else if (text.startsWith("40")) {
      connected += 1;
      if (connected === count) {
        console.log(`CONNECTED ${connected} ${((Date.now() - started) / 1000).toFixed(2)}`);
      }
      if (index + CHAINS < count) open(index + CHAINS);
    }
  });
  ws.on("error", (error) => {
    console.error(`socket ${index}: ${error.message}`);
    process.exit(1);
  });
  sockets.push(ws);
}

// CHAINS at a time: each socket, once connected, opens the one CHAINS further on.
for (let i = 0; i < Math.min(CHAINS, count); i++) open(i);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
