/** MONITOR output lines, formatted as Redis' replicationFeedMonitors does. */

import type { Client } from './client.js';

/** Redis' sdscatrepr: quoted, with C escapes and \xHH for non-printable bytes. */
export function reprString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c: out += '\\\\'; break;
      case 0x22: out += '\\"'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x07: out += '\\a'; break;
      case 0x08: out += '\\b'; break;
      default:
        out += c >= 0x20 && c < 0x7f ? s[i] : '\\x' + c.toString(16).padStart(2, '0');
    }
  }
  return out + '"';
}

export function formatMonitorLine(c: Client, argv: readonly string[]): string {
  const now = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
  const ts = `${Math.floor(now / 1e6)}.${String(now % 1e6).padStart(6, '0')}`;
  const who = c.socket === null ? 'lua' : c.addr.startsWith('/') ? `unix:${c.addr.replace(/:0$/, '')}` : c.addr;
  return `${ts} [${c.db.id} ${who}] ${argv.map(reprString).join(' ')}`;
}
