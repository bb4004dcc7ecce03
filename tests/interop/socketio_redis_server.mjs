// One Node node of a Socket.IO cluster on Redis, beside our Rust nodes, for
// tests/interop/socketio_redis.rs: the npm `socket.io` server with `@socket.io/redis-adapter`
// (over the `redis` client), and `@socket.io/redis-emitter` on the same Redis.
//
//   node socketio_redis_server.mjs redis://127.0.0.1:<port>
//
// Prints `PORT n` once listening on a free port of 127.0.0.1. Each socket of `/` joins the
// rooms named in its auth `rooms`. Then reads one JSON command a line on stdin and prints
// `DONE <json>` when it is done:
//   {"op": "emit", "to": [...], "except": [...], "volatile": bool, "args": [...]}
//       io.to(...).except(...)[.volatile].emit("news", ...args) (`{"$bin": [bytes]}` in
//       args is a Buffer);
//   {"op": "emitter", "to": [...], "except": [...], "args": [...]}  the same, through the
//       emitter;
//   {"op": "fetch", "to": [...]}   DONE with the sorted ids of io.in(...).fetchSockets();
//   {"op": "rooms"}                DONE with the sorted rooms of the adapter's allRooms();
//   {"op": "ask"}                  DONE with the sorted answers of every socket to
//       io.timeout(2000).emitWithAck("question") (a broadcast with acks, across nodes);
//   {"op": "join", "to": [...], "room": r}   io.in(...).socketsJoin(r).
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";

const url = process.argv[2];
const pub = createClient({ url });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
const io = new Server(http, { transports: ["websocket"], adapter: createAdapter(pub, sub) });
const emitter = new Emitter(pub);

io.on("connection", (socket) => {
  for (const room of socket.handshake.auth?.rooms ?? []) socket.join(room);
});
// Server-side events from the other nodes (ours, through serverSideEmit).
io.on("hello", (...received) => {
  const callback = typeof received[received.length - 1] === "function" ? received.pop() : null;
  if (callback) callback({ from: "node", got: received });
});

const args = (list) =>
  (list ?? []).map((arg) => (arg && arg.$bin ? Buffer.from(arg.$bin) : arg));

function select(operator, command) {
  if (command.to?.length) operator = operator.to(command.to);
  if (command.except?.length) operator = operator.except(command.except);
  return operator;
}

async function run(command) {
  switch (command.op) {
    case "emit": {
      let operator = select(io.of("/"), command);
      if (command.volatile) operator = operator.volatile;
      operator.emit("news", ...args(command.args));
      return null;
    }
    case "emitter":
      select(emitter, command).emit("news", ...args(command.args));
      return null;
    case "fetch": {
      const target = command.to?.length ? io.in(command.to) : io.of("/");
      const sockets = await target.fetchSockets();
      return sockets.map((socket) => socket.id).sort();
    }
    case "ask": {
      const answers = await io.timeout(command.timeout ?? 2000).emitWithAck("question");
      return answers.sort();
    }
    case "server-side":
      return await io.serverSideEmitWithAck("hello", "from node");
    case "rooms":
      return [...(await io.of("/").adapter.allRooms())].sort();
    case "join":
      (command.to?.length ? io.in(command.to) : io.of("/")).socketsJoin(command.room);
      return null;
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

http.listen(0, "127.0.0.1", () => {
  console.log(`PORT ${http.address().port}`);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", async (line) => {
    try {
      console.log(`DONE ${JSON.stringify(await run(JSON.parse(line)))}`);
    } catch (error) {
      console.log(`DONE ${JSON.stringify({ error: String(error) })}`);
    }
  });
  lines.on("close", () => process.exit(0));
});
