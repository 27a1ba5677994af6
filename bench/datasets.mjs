// Datasets for the memory comparison, loaded into both servers over a
// pipelined socket (or with DEBUG POPULATE for plain strings).
import net from 'node:net';

function encode(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/** Send every command, pipelined in batches, and wait for all replies. */
export function loadDataset(port, commands) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let sent = 0;
    let replies = 0;
    let done = false;
    let tail = '';
    let bulkText = false;
    const it = commands[Symbol.iterator]();
    const pump = () => {
      let batch = '';
      let n = 0;
      for (; n < 1000; n++) {
        const next = it.next();
        if (next.done) {
          done = true;
          break;
        }
        batch += encode(next.value);
      }
      sent += n;
      if (n > 0) sock.write(batch);
      else if (replies === sent) finish();
    };
    const finish = () => {
      sock.end();
      resolve();
    };
    sock.on('connect', pump);
    sock.on('error', reject);
    sock.on('data', (d) => {
      // Every reply here is one line (+OK / :n) or a bulk string (XADD's
      // ID: a $len line, then its text); count line ends.
      const text = tail + d.toString('latin1');
      const lines = text.split('\r\n');
      tail = lines.pop();
      for (const l of lines) {
        if (bulkText) {
          bulkText = false;
          continue;
        }
        if (l.startsWith('-')) return reject(new Error(l));
        bulkText = l.startsWith('$') && l !== '$-1';
        replies++;
      }
      if (replies === sent) {
        if (done) finish();
        else pump();
      }
    });
  });
}

export const DATASETS = {
  strings: (quick) => {
    const n = quick ? 200000 : 1000000;
    return { label: `${n} string keys (DEBUG POPULATE)`, unit: 'key', units: n, populate: n };
  },
  hashes: (quick) => {
    const n = quick ? 20000 : 100000;
    return {
      label: `${n} hashes of 10 fields`,
      unit: 'field',
      units: n * 10,
      *commands() {
        for (let i = 0; i < n; i++) {
          const args = ['HSET', `hash:${i}`];
          for (let f = 0; f < 10; f++) args.push(`field${f}`, `value${f}:${i}`);
          yield args;
        }
      },
    };
  },
  sets: (quick) => {
    const n = quick ? 20000 : 100000;
    return {
      label: `${n} sets of 10 short strings`,
      unit: 'member',
      units: n * 10,
      *commands() {
        for (let i = 0; i < n; i++) yield ['SADD', `set:${i}`, ...Array.from({ length: 10 }, (_, j) => `tag:${(i * 7 + j) % 1000}`)];
      },
    };
  },
  // One stream of entries with the same 3 small fields (Redis stores them
  // once per listpack node, in its master entry).
  streams: (quick) => {
    const n = quick ? 200000 : 1000000;
    return {
      label: `a stream of ${n} entries of 3 fields`,
      unit: 'entry',
      units: n,
      *commands() {
        for (let i = 0; i < n; i++) yield ['XADD', 'stream:0', '*', 'name', `sensor:${i % 100}`, 'temp', String(15 + (i % 200) / 10), 'seq', String(i)];
      },
    };
  },
  zsets: (quick) => {
    const n = quick ? 2000 : 10000;
    return {
      label: `${n} sorted sets of 1000 members`,
      unit: 'member',
      units: n * 1000,
      *commands() {
        for (let i = 0; i < n; i++) {
          for (let b = 0; b < 1000; b += 250) {
            const args = ['ZADD', `zset:${i}`];
            for (let j = b; j < b + 250; j++) args.push(String((j * 7919 + i) % 100000), `member:${j}`);
            yield args;
          }
        }
      },
    };
  },
};
