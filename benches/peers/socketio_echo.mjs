// The npm `socket.io` server (v4, protocol v5) for the Socket.IO benchmarks: every event
// comes back as it was sent, in the ack when the client asked for one, else as the same
// event (what examples/socketio_echo.rs does); but the event `bcast` is broadcast, with its
// arguments, to every socket of `/`, its sender included (io.emit). WebSocket transport
// only, no per-message compression (ours has none), default heartbeat.
// With `--redis URL` the server is one node of a Socket.IO cluster on that Redis
// (@socket.io/redis-adapter over the `redis` v4 client), so io.emit reaches every node's
// sockets (scripts/bench-redis.sh).
// Usage: node socketio_echo.mjs ADDR [--redis URL]
import { createServer } from "node:http";
import { Server } from "socket.io";

const argv = process.argv.slice(2);
const redisAt = argv.indexOf("--redis");
const redisUrl = redisAt >= 0 ? argv.splice(redisAt, 2)[1] : null;
const [host, port] = (argv[0] ?? "127.0.0.1:3000").split(":");
const http = createServer();
const options = { transports: ["websocket"], perMessageDeflate: false };
if (redisUrl) {
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const { createClient } = await import("redis");
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  options.adapter = createAdapter(pub, sub);
}
const io = new Server(http, options);
io.on("connection", (socket) => {
  socket.on("bcast", (...args) => io.emit("bcast", ...args));
  socket.onAny((event, ...args) => {
    if (event === "bcast") return; // onAny sees every event, before its own listener
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args.pop()(...args);
    } else {
      socket.emit(event, ...args);
    }
  });
});
http.listen(Number(port), host, () => console.log(`socket.io echo on ${host}:${port}`));
