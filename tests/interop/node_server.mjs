// Interop echo server (Node `ws` v8, no compression) on 127.0.0.1, port chosen by the OS.
// Echoes text as text and binary as binary.
//
// stdout protocol: first line `PORT <number>`; then `CLOSED <code> <reason>` for every closed
// connection (the code/reason the client sent). It exits by itself after 30 s, or as soon as
// its stdin closes (so a parent that dies does not leave it behind) — keep stdin open, e.g.:
//
//   node tests/interop/node_server.mjs                  # from a terminal, or a parent's pipe
//   sleep 30 | node tests/interop/node_server.mjs &     # from a script (stdin = a pipe)
//
// With --tls CHAIN_PEM KEY_PEM it serves wss:// (an https server with that certificate chain
// and key) instead of ws://.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

const LIFETIME_MS = 30_000;

// With --deflate, permessage-deflate is accepted and every message compressed (threshold 0).
const deflate = process.argv.includes('--deflate');
const tlsAt = process.argv.indexOf('--tls');
const perMessageDeflate = deflate ? { threshold: 0 } : false;
// stdout writes to pipes and files are synchronous in Node on Linux: the line is flushed.
const announce = (address) => process.stdout.write(`PORT ${address.port}\n`);
let wss;
if (tlsAt > 0) {
  const https = createServer({
    cert: readFileSync(process.argv[tlsAt + 1]),
    key: readFileSync(process.argv[tlsAt + 2]),
  });
  wss = new WebSocketServer({ server: https, perMessageDeflate }); // re-emits its 'error'
  https.on('tlsClientError', (err) => console.error(`node_server: TLS error: ${err.message}`));
  https.listen(0, '127.0.0.1', () => announce(https.address()));
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  wss.on('listening', () => announce(wss.address()));
}

wss.on('error', (err) => {
  console.error(`node_server: ${err.message}`);
  process.exit(1);
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => process.stdout.write(`CLOSED ${code} ${reason.toString()}\n`));
  ws.on('error', (err) => console.error(`node_server: connection error: ${err.message}`));
});

setTimeout(() => {
  console.error(`node_server: exiting after ${LIFETIME_MS / 1000} s`);
  process.exit(0);
}, LIFETIME_MS);

process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
