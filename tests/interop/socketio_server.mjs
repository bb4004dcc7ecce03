// The npm `socket.io` server (v4, protocol v5) for tests/interop/socketio_rust_client.rs,
// which runs our Rust Socket.IO client against it. Prints `PORT n` once listening on a free
// port of 127.0.0.1, `ANSWER <json>` for each answer to its `question`, and `BOUNCED` once a
// `bounce` line on stdin has closed the server and started it again on the same port.
//
// Namespaces: `/`, `/admin` (its middleware wants auth {token: "secret"}) and `/private`
// (refuses every CONNECT with message "private" and data {code: 7}). Each socket answers
// `echo` with its arguments, emits `relayed` back on `relay`, asks a `question` (200 ms to
// answer) on `ask`, ignores `silent` and is disconnected on `kick`.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";

function start(port, ready) {
  const http = createServer();
  const io = new Server(http, { transports: ["websocket"] });
  io.of("/admin").use((socket, next) => {
    next(socket.handshake.auth?.token === "secret" ? undefined : new Error("no token"));
  });
  io.of("/private").use((socket, next) => {
    const error = new Error("private");
    error.data = { code: 7 };
    next(error);
  });
  for (const name of ["/", "/admin"]) {
    io.of(name).on("connection", (socket) => {
      socket.on("echo", (...args) => {
        const ack = args.pop();
        ack(...args);
      });
      socket.on("relay", (...args) => socket.emit("relayed", ...args));
      socket.on("silent", () => {});
      socket.on("kick", () => socket.disconnect());
      socket.on("ask", async () => {
        try {
          const answer = await socket.timeout(200).emitWithAck("question");
          console.log(`ANSWER ${JSON.stringify(answer)}`);
        } catch (error) {
          console.log(`ANSWER ${error.message}`);
        }
      });
    });
  }
  http.listen(port, "127.0.0.1", () => ready(io, http.address().port));
}

let current;
start(0, (io, port) => {
  current = io;
  console.log(`PORT ${port}`);
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() === "bounce") {
      current.close(() => {
        start(port, (io) => {
          current = io;
          console.log("BOUNCED");
        });
      });
    }
  });
});
