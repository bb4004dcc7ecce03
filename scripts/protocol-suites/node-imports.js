// Ours, not the suites': the Node shim both protocol suites import as ./node-imports.js
// when run in Node. The Socket.IO v5 suite (docs/socket.io-protocol/v5-test-suite/) ships
// none; the Engine.IO v4 suite's imports node-fetch. scripts/protocol-suites.sh copies this
// file into each. It makes Node look like the browser the suites were written for:
//
// - fetch: Node's own (Node 18 and later).
// - WebSocket: ws, with `allowSynchronousEvents: false`. A browser dispatches each message
//   as its own task, so the suite's `await waitFor(socket, "message")` sees every message
//   in turn. ws's client (8.23, as installed; its `allowSynchronousEvents` defaults to true)
//   emits every message of one TCP read in the same tick, and a once-listener then misses
//   all but the first: a server that writes its CONNECT reply and the first event together
//   (nothing in the protocol says not to) would fail six cases for the environment's sake.
// - chai with chai-string, as the suite expects.
//
// The suites talk to http://localhost:3000. With PROTOCOL_SUITE_URL set (say
// http://127.0.0.1:40123), every fetch and WebSocket aimed there goes to that URL instead;
// the suite itself is unchanged.
import { WebSocket as NodeWebSocket } from "ws";
import chai from "chai";
import chaiString from "chai-string";

chai.use(chaiString);

const SUITE_URL = "http://localhost:3000";
const target = process.env.PROTOCOL_SUITE_URL;

function redirect(url) {
  const text = String(url);
  if (!target) return text;
  return text
    .replace(SUITE_URL, target)
    .replace(SUITE_URL.replace("http", "ws"), target.replace("http", "ws"));
}

const builtinFetch = globalThis.fetch;

globalThis.fetch = (url, options) => builtinFetch(redirect(url), options);
globalThis.WebSocket = class extends NodeWebSocket {
  constructor(url, protocols, options) {
    super(redirect(url), protocols, { allowSynchronousEvents: false, ...options });
  }
};
globalThis.chai = chai;
