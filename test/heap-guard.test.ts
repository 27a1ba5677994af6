// The V8 heap's ceiling: a Vireo whose heap limit is small (node
// --max-old-space-size=128) and maxmemory 0 is filled past it. Without the
// guard V8 ends the process with a fatal allocation failure; with it,
// writes get -OOM, the server and every connection stay up, reads and
// deletes still run, and after FLUSHALL writes are accepted again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVireoProcess, type ProcessHandle } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import { pipeline, type Cmd } from './helpers/dataset.js';

const HEAP_LIMIT_MB = 128;
const VALUE = 'v'.repeat(2000);

describe('heap ceiling', () => {
  let server: ProcessHandle;
  let c: RespClient;
  beforeAll(async () => {
    server = await startVireoProcess(['--save', '', '--appendonly', 'no'], { nodeFlags: [`--max-old-space-size=${HEAP_LIMIT_MB}`] });
    c = await RespClient.connect(server.port);
  });
  afterAll(async () => {
    c?.close();
    await server?.stop();
  });

  it('refuses writes with -OOM near the heap limit instead of dying, and accepts them again once memory is freed', async () => {
    let refused: string | null = null;
    let written = 0;
    // Twice the heap limit of 2 KB values: far past what the heap can hold.
    const batches = Math.ceil((2 * HEAP_LIMIT_MB * 1024 * 1024) / VALUE.length / 500);
    for (let b = 0; b < batches && refused === null; b++) {
      const cmds: Cmd[] = Array.from({ length: 500 }, (_, i) => ['SET', `k:${b * 500 + i}`, VALUE]);
      const replies = await pipeline(c, cmds, 500);
      for (const r of replies) {
        if (r.type === 'error') {
          refused = String(r.value);
          break;
        }
        written++;
      }
    }
    expect(refused).toMatch(/^OOM command not allowed when used memory is near the server's heap limit/);
    expect(written).toBeGreaterThan(10000);
    // Still up: reads, deletes and non-growing commands run.
    expect(toJs(await c.call('PING'))).toBe('PONG');
    expect(toJs(await c.call('GET', 'k:0'))).toBe(VALUE);
    expect(toJs(await c.call('DEL', 'k:0'))).toBe('1');
    expect((await c.call('SET', 'again', 'x')).type).toBe('error');
    // FLUSHALL frees the data: writes are accepted again.
    expect(toJs(await c.call('FLUSHALL'))).toBe('OK');
    await new Promise((r) => setTimeout(r, 50));
    expect(toJs(await c.call('SET', 'again', 'x'))).toBe('OK');
    expect(server.proc.exitCode).toBeNull();
  }, 60000);
});
