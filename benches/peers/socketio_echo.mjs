// The npm `socket.io` server (v4, protocol v5) for the Socket.IO benchmarks: every event
// comes back as it was sent, in the ack when the client asked for one, else as the same
// event (what examples/socketio_echo.rs does); but the event `bcast` is broadcast, with its
// arguments, to every socket of `/`, its sender included (io.emit). WebSocket transport
// only, no per-message compression (ours has none), default heartbeat.
// Usage: node socketio_echo.mjs ADDR
import { createServer } from "node:http";
import { Server } from "socket.io";

const [host, port] = (process.argv[2] ?? "127.0.0.1:3000").split(":");
const http = createServer();
const io = new Server(http, { transports: ["websocket"], perMessageDeflate: false });
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
