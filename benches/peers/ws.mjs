// Node `ws` (v8) peer for scripts/bench.sh:  node benches/peers/ws.mjs PORT [echo|broadcast]
//
//   echo (default): every message comes back with its isBinary flag, on any path.
//   broadcast:      connections on /sub are subscribers; every message received on /pub is
//                   sent to each subscriber as the same Buffer (not echoed to the publisher).
//
// permessage-deflate off, maxPayload 64 MiB. ws answers pings and close frames itself; with
// the optional `bufferutil` addon installed (it comes with the uWS.js package), ws masks and
// unmasks natively, as its README recommends for performance.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] || 9305);
const mode = process.argv[3] || 'echo';
const MIB = 1024 * 1024;
if (mode !== 'echo' && mode !== 'broadcast') {
  console.error(`unknown mode ${mode} (echo or broadcast)`);
  process.exit(2);
}

const server = createServer((_req, res) => {
  res.writeHead(426).end();
});
const wss = new WebSocketServer({
  server,
  perMessageDeflate: false,
  maxPayload: 64 * MIB,
  clientTracking: false,
});

const subscribers = new Set();

wss.on('connection', (ws, request) => {
  ws.on('error', () => {}); // a peer that vanished: the socket closes itself
  if (mode === 'echo') {
    ws.on('message', (data, isBinary) => {
      ws.send(data, { binary: isBinary });
    });
    return;
  }
  const path = (request.url || '/').split('?')[0];
  if (path === '/sub') {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
  } else if (path === '/pub') {
    ws.on('message', (data, isBinary) => {
      for (const subscriber of subscribers) {
        // As uWS's maxBackpressure does: skip a subscriber that is 1 MiB behind.
        if (subscriber.bufferedAmount <= MIB) subscriber.send(data, { binary: isBinary });
      }
    });
  } else {
    ws.close(1008, 'path must be /sub or /pub');
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${port}`);
});
