// Node `ws` on the deflate_throughput corpus: its PerMessageDeflate compresses and inflates
// each message as its server and client would (level 6, 15-bit window, threshold 0), with
// and without context takeover. Prints JSON lines like the Rust bench.
//
//   node benches/deflate_throughput/ws.mjs CORPUS_FILE
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// ws's package exports do not list its internals: load the file by path.
const require = createRequire(import.meta.url);
const lib = (file) => new URL(`../../tests/interop/node_modules/ws/lib/${file}`, import.meta.url).pathname;
const PerMessageDeflate = require(lib('permessage-deflate.js'));
const { parse, format } = require(lib('extension.js'));

const data = readFileSync(process.argv[2]);
const messages = [];
for (let at = 0; at + 4 <= data.length;) {
  const len = data.readUInt32LE(at);
  messages.push(data.subarray(at + 4, at + 4 + len));
  at += 4 + len;
}
const total = messages.reduce((n, m) => n + m.length, 0);

function pair(takeover) {
  const options = { threshold: 0, serverNoContextTakeover: !takeover, clientNoContextTakeover: !takeover };
  const server = new PerMessageDeflate(options, true, 0);
  const client = new PerMessageDeflate({ ...options, clientMaxWindowBits: 15 }, false, 0);
  // The offer and the answer go through the header format, as in a real handshake.
  const offer = parse(format({ 'permessage-deflate': client.offer() }));
  const accepted = server.accept(offer['permessage-deflate']);
  const answer = parse(format({ 'permessage-deflate': accepted }));
  client.accept(answer['permessage-deflate']);
  return { server, client };
}

const compress = (pmd, buf) => new Promise((resolve, reject) =>
  pmd.compress(buf, true, (err, out) => (err ? reject(err) : resolve(out))));
const inflate = (pmd, buf) => new Promise((resolve, reject) =>
  pmd.decompress(buf, true, (err, out) => (err ? reject(err) : resolve(out))));

for (const takeover of [false, true]) {
  const rounds = 3;
  let compressNs = 0n;
  let inflateNs = 0n;
  let wire = 0;
  for (let round = 0; round < rounds; round++) {
    const { server, client } = pair(takeover);
    const frames = [];
    let start = process.hrtime.bigint();
    for (const message of messages) frames.push(await compress(server, message));
    compressNs += process.hrtime.bigint() - start;
    wire = frames.reduce((n, f) => n + f.length, 0);
    start = process.hrtime.bigint();
    for (let i = 0; i < frames.length; i++) {
      const out = await inflate(client, frames[i]);
      if (out.length !== messages[i].length) throw new Error('inflate mismatch');
    }
    inflateNs += process.hrtime.bigint() - start;
    server.cleanup();
    client.cleanup();
  }
  const mbs = (ns) => (total * rounds / (Number(ns) / 1e9) / 1e6).toFixed(1);
  console.log(JSON.stringify({
    implementation: 'node ws', context_takeover: takeover, messages: messages.length, bytes: total,
    compress_mb_s: Number(mbs(compressNs)), inflate_mb_s: Number(mbs(inflateNs)),
    ratio: Number((wire / total).toFixed(3)),
  }));
}
