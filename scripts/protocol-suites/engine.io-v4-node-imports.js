// Ours, in place of the suite's node-imports.js (which imports node-fetch): Node 20 has
// fetch built in. The rest is the suite's: ws for WebSocket, chai with chai-string.
//
// The suite talks to http://localhost:3000. With ENGINE_IO_URL set (scripts/protocol-suites.sh
// sets it to the server it started on a free port), every fetch and WebSocket aimed there
// goes to that URL instead; the suite itself is unchanged.
import { WebSocket as NodeWebSocket } from "ws";
import chai from "chai";
import chaiString from "chai-string";

chai.use(chaiString);

const SUITE_URL = "http://localhost:3000";
const target = process.env.ENGINE_IO_URL;

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
  constructor(url, ...rest) {
    super(redirect(url), ...rest);
  }
};
globalThis.chai = chai;
