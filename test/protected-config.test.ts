// Redis 7's protected configuration against redis-server: CONFIG SET of the
// PROTECTED_CONFIG parameters (dir, dbfilename) refused unless
// enable-protected-configs allows it (yes, or local for loopback and unix
// socket connections), DEBUG gated by enable-debug-command and MODULE
// LOAD/LOADEX/UNLOAD by enable-module-command, with Redis' error texts, in
// and out of MULTI, and the refusal leaving the other parameters of the same
// CONFIG SET unchanged.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, startVireo, tempDir } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';

describe.skipIf(!HAVE_REDIS)('protected configuration (differential)', () => {
  describe('with the defaults (everything protected refused)', () => {
    let pair: DiffPair;
    beforeAll(async () => {
      pair = await DiffPair.start({ 'enable-debug-command': 'no' });
    });
    afterAll(async () => {
      await pair?.stop();
    });

    it('CONFIG SET dir and dbfilename are refused; appenddirname is immutable; nothing else of the command is set', async () => {
      const elsewhere = tempDir();
      await pair.script([
        ['CONFIG', 'SET', 'dir', elsewhere],
        ['CONFIG', 'SET', 'DIR', elsewhere],
        ['CONFIG', 'SET', 'dbfilename', 'other.rdb'],
        ['CONFIG', 'SET', 'appenddirname', 'elsewhere'],
        ['CONFIG', 'SET', 'appendfilename', 'other.aof'],
        ['CONFIG', 'SET', 'maxmemory', '1mb', 'dbfilename', 'other.rdb'],
        ['CONFIG', 'GET', 'maxmemory'],
        ['CONFIG', 'GET', 'dbfilename'],
        ['CONFIG', 'SET', 'dbfilename', 'other.rdb', 'daemonize', 'yes'],
        ['CONFIG', 'SET', 'daemonize', 'yes', 'dir', elsewhere],
        ['CONFIG', 'SET', 'nosuch', 'x', 'dir', elsewhere],
        ['CONFIG', 'SET', 'enable-protected-configs', 'yes'],
        ['CONFIG', 'GET', 'enable-protected-configs'],
        ['CONFIG', 'GET', 'enable-module-command'],
        ['MULTI'],
        ['CONFIG', 'SET', 'dir', elsewhere],
        ['SET', 'k', 'v'],
        ['EXEC'],
      ]);
    });

    it('DEBUG and MODULE LOAD/LOADEX/UNLOAD are refused; MODULE LIST and HELP answer', async () => {
      await pair.script([
        ['DEBUG', 'SLEEP', '0'],
        ['DEBUG', 'HELP'],
        ['MODULE', 'LIST'],
        ['MODULE', 'HELP'],
        ['MODULE', 'LOAD', '/nonexistent/module.so'],
        ['MODULE', 'LOADEX', '/nonexistent/module.so'],
        ['MODULE', 'UNLOAD', 'nosuch'],
        ['MODULE', 'LOAD'],
        ['MODULE', 'NOSUCH'],
      ]);
    });
  });

  describe('enable-protected-configs local and enable-module-command yes', () => {
    let pair: DiffPair;
    const socketDir = tempDir('vireo-sock-');
    beforeAll(async () => {
      pair = await DiffPair.start({ 'enable-protected-configs': 'local', 'enable-module-command': 'yes' });
    });
    afterAll(async () => {
      await pair?.stop();
    });

    it('a loopback connection sets dir and dbfilename', async () => {
      const [a, b] = [tempDir(), tempDir()];
      expect(toJs(await pair.redis.call('CONFIG', 'SET', 'dir', a, 'dbfilename', 'moved.rdb'))).toBe('OK');
      expect(toJs(await pair.vireo.call('CONFIG', 'SET', 'dir', b, 'dbfilename', 'moved.rdb'))).toBe('OK');
      expect(toJs(await pair.vireo.call('CONFIG', 'GET', 'dir'))).toEqual(['dir', b]);
      await pair.script([['CONFIG', 'GET', 'dbfilename'], ['CONFIG', 'SET', 'dbfilename', 'a/b.rdb']]);
    });

    it('MODULE LOAD of a library that is not there fails as in Redis; UNLOAD of an unknown module too', async () => {
      await pair.script([
        ['MODULE', 'LOAD', '/nonexistent/module.so'],
        ['MODULE', 'LOAD', '/nonexistent/module.so', 'arg1'],
        ['MODULE', 'UNLOAD', 'nosuch'],
        ['MODULE', 'LIST'],
      ]);
    });

    it('a unix socket connection is local', async () => {
      const sock = path.join(socketDir, 'vireo.sock');
      const v = await startVireo({ unixsocket: sock, 'enable-protected-configs': 'local' });
      try {
        const c = await RespClient.connectPath(sock);
        expect(toJs(await c.call('CONFIG', 'SET', 'dbfilename', 'over-unix.rdb'))).toBe('OK');
        c.close();
      } finally {
        await v.stop();
      }
    });
  });
});
