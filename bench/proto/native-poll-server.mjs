// A reply floor for SET-like traffic (one +OK per command, counted by its
// '*'), over one of two I/O paths (bench/proto/run-native-poll.mjs):
//   --io stream-handle: the libuv stream handle from JS, as Vireo's
//     src/server/direct-io.ts does (one JS callback per socket read, a write per read);
//   --io native-poll: native-poll.c (one JS call per event-loop turn for all reads).
// Usage: node bench/proto/native-poll-server.mjs --port N --io stream-handle|native-poll [--addon path]
import net from 'node:net';
import { createRequire } from 'node:module';
import { options } from '../servers.mjs';
import { DirectIo } from '../../dist/src/server/direct-io.js';

const { opt } = options(process.argv.slice(2));
const port = Number(opt('port', '6390'));
const io = opt('io', 'stream-handle');
const REPLIES = Buffer.from('+OK\r\n'.repeat(4096));

/** Commands in a read: RESP arrays start with '*' (the benchmark's values hold none). */
function commands(buf, start, end) {
  let k = 0;
  for (let j = start; j < end; j++) if (buf[j] === 42) k++;
  return k;
}

if (io === 'native-poll') {
  const addon = createRequire(import.meta.url)(opt('addon', './native-poll.node'));
  const shared = addon.start(port, (n) => {
    const { input, output, events, outs } = shared;
    let replies = 0;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const len = events[i * 3 + 2];
      if (len < 0) continue; // closed
      const bytes = commands(input, events[i * 3 + 1], events[i * 3 + 1] + len) * 5;
      output.set(REPLIES.subarray(0, bytes), at);
      outs[replies * 3] = events[i * 3];
      outs[replies * 3 + 1] = at;
      outs[replies * 3 + 2] = bytes;
      at += bytes;
      replies++;
    }
    return replies;
  });
} else {
  const one = [REPLIES];
  net
    .createServer({ noDelay: true }, (socket) => {
      socket.on('error', () => {});
      const direct = DirectIo.attach(socket, (buf) => {
        one[0] = REPLIES.subarray(0, commands(buf, 0, buf.length) * 5);
        direct.write(one);
      });
    })
    .listen(port, '127.0.0.1');
}
