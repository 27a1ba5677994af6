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
  const redacted = redactedPositions(argv);
  const shown = argv.map((a, i) => (redacted !== null && redacted.has(i) ? REDACTED : reprString(a)));
  return `${ts} [${c.db.id} ${who}] ${shown.join(' ')}`;
}

const REDACTED = '"(redacted)"';

/**
 * Arguments MONITOR must not show (Redis' redactClientCommandArgument):
 * AUTH's user and password, HELLO ... AUTH <user> <pass>. Null when none.
 */
function redactedPositions(argv: readonly string[]): Set<number> | null {
  const name = argv[0]!.toLowerCase();
  if (name === 'auth') return new Set(Array.from({ length: argv.length - 1 }, (_, i) => i + 1));
  if (name !== 'hello') return null;
  // HELLO's options as helloCommand walks them: AUTH takes two arguments, SETNAME one.
  const out = new Set<number>();
  for (let j = 2; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!.toLowerCase();
    if (opt === 'auth' && more >= 2) {
      out.add(j + 1);
      out.add(j + 2);
      j += 2;
    } else if (opt === 'setname' && more >= 1) {
      j++;
    } else {
      break;
    }
  }
  return out.size > 0 ? out : null;
}
