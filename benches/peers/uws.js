// uWebSockets.js peer for scripts/bench.sh:  node benches/peers/uws.js PORT [echo|broadcast]
//   [--tls CERT_PEM KEY_PEM [--low-memory]]
//
//   echo (default): every message comes back with its isBinary flag, on any path.
//   broadcast:      connections on /sub are subscribers (topic "bench"); every message
//                   received on /pub is published once to the topic (app.publish encodes
//                   the frame once), not echoed to the publisher.
//   --tls:          an SSLApp (uSockets over the BoringSSL this build of uWS.js links in,
//                   with its defaults) instead of an App, for scripts/bench-tls.sh;
//                   --low-memory adds ssl_prefer_low_memory_usage (SSL_MODE_RELEASE_BUFFERS,
//                   which asks the TLS library to free an idle connection's buffers).
//
// uWS.js 20.30 from the npm package @trufflesuite/uws-js-unofficial. Its entry point
// (src/uws.js) silently falls back to a JavaScript implementation built on `ws` when the
// native addon does not load, so the addon for this platform and Node ABI is required
// directly: a failure is an error here, never a slower stand-in.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const addon = join(here, 'node_modules/@trufflesuite/uws-js-unofficial/binaries',
  `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
const uWS = require(addon); // throws (exit 1) if the native addon cannot load

const args = process.argv.slice(2);
let tls = null;
let lowMemory = false;
const tlsAt = args.indexOf('--tls');
if (tlsAt >= 0) {
  tls = { cert_file_name: args[tlsAt + 1], key_file_name: args[tlsAt + 2] };
  if (!tls.cert_file_name || !tls.key_file_name) {
    console.error('usage: uws.js PORT [echo|broadcast] [--tls CERT_PEM KEY_PEM [--low-memory]]');
    process.exit(2);
  }
  args.splice(tlsAt, 3);
}
const lowAt = args.indexOf('--low-memory');
if (lowAt >= 0) {
  lowMemory = true;
  args.splice(lowAt, 1);
}
const port = Number(args[0] || 9302);
const mode = args[1] || 'echo';
const MIB = 1024 * 1024;

// Settings shared by both modes: no compression, 64 MiB messages, no idle timeout or
// automatic pings, and a backpressure bound far above what an echo needs in flight (the
// load generator keeps at most K messages outstanding per connection), so uWS never drops
// an echo (send() returning 2) or closes a connection for it.
const common = {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * MIB,
  idleTimeout: 0,
  maxLifetime: 0,
  sendPingsAutomatically: false,
  closeOnBackpressureLimit: false,
};

const app = tls ? uWS.SSLApp({ ...tls, ssl_prefer_low_memory_usage: lowMemory }) : uWS.App();
if (mode === 'echo') {
  app.ws('/*', {
    ...common,
    maxBackpressure: 256 * MIB,
    message: (ws, message, isBinary) => {
      ws.send(message, isBinary);
    },
  });
} else if (mode === 'broadcast') {
  // Per subscriber, uWS skips publishing to a socket whose buffered output exceeds
  // maxBackpressure (a slow reader); 1 MiB keeps 10,000 subscribers' memory bounded.
  app.ws('/sub', {
    ...common,
    maxBackpressure: 1 * MIB,
    open: (ws) => {
      ws.subscribe('bench');
    },
  });
  app.ws('/pub', {
    ...common,
    maxBackpressure: 256 * MIB,
    message: (_ws, message, isBinary) => {
      app.publish('bench', message, isBinary);
    },
  });
} else {
  console.error(`unknown mode ${mode} (echo or broadcast)`);
  process.exit(2);
}

app.listen('127.0.0.1', port, (listenSocket) => {
  if (!listenSocket) {
    console.error(`uws.js: cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(`listening on ${port}${tls ? ' (TLS)' : ''}`);
});
