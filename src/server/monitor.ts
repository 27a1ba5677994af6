/** MONITOR output lines, formatted as Redis' replicationFeedMonitors does. */


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

/** How MONITOR names a client: its address, unix sockets as "unix:<path>". */
export function monitorSource(addr: string): string {
  return addr.startsWith('/') ? `unix:${addr.replace(/:0$/, '')}` : addr;
}

/**
 * The MONITOR reply for a command ("+<line>\r\n"), built in one Buffer:
 * an argument of hundreds of MB must not become a JS string four times its
 * size (V8 would abort the process).
 */
export function monitorLine(who: string, db: number, argv: readonly string[]): Buffer {
  const now = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
  const ts = `${Math.floor(now / 1e6)}.${String(now % 1e6).padStart(6, '0')}`;
  const head = `+${ts} [${db} ${who}]`;
  const redacted = redactedPositions(argv);
  let size = head.length + 2;
  for (let i = 0; i < argv.length; i++) size += 1 + (redacted !== null && redacted.has(i) ? REDACTED.length : reprLength(argv[i]!));
  const out = Buffer.allocUnsafe(size);
  let p = out.latin1Write(head, 0);
  for (let i = 0; i < argv.length; i++) {
    out[p++] = 32;
    if (redacted !== null && redacted.has(i)) p += out.latin1Write(REDACTED, p);
    else p = reprInto(argv[i]!, out, p);
  }
  out[p++] = 13;
  out[p++] = 10;
  return out;
}

/** Bytes of reprString(s). */
function reprLength(s: string): number {
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c || c === 0x22 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x07 || c === 0x08) n += 2;
    else n += c >= 0x20 && c < 0x7f ? 1 : 4;
  }
  return n;
}

const HEX = '0123456789abcdef';
/** The letter after the backslash of each C escape reprString uses. */
const ESCAPES: Record<number, number> = { 0x5c: 0x5c, 0x22: 0x22, 0x0a: 0x6e, 0x0d: 0x72, 0x09: 0x74, 0x07: 0x61, 0x08: 0x62 };

/** Write reprString(s) into out at p; returns the end. */
function reprInto(s: string, out: Buffer, p: number): number {
  out[p++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const esc = ESCAPES[c];
    if (esc !== undefined) {
      out[p++] = 0x5c;
      out[p++] = esc;
    } else if (c >= 0x20 && c < 0x7f) {
      out[p++] = c;
    } else {
      out[p++] = 0x5c;
      out[p++] = 0x78;
      out[p++] = HEX.charCodeAt(c >> 4);
      out[p++] = HEX.charCodeAt(c & 15);
    }
  }
  out[p++] = 0x22;
  return p;
}

const REDACTED = '"(redacted)"';

/** MIGRATE's AUTH / AUTH2 arguments, as migrateCommand redacts them while it parses its options. */
function migrateSecrets(argv: readonly string[]): Set<number> | null {
  const out = new Set<number>();
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!.toLowerCase();
    if (opt === 'copy' || opt === 'replace') continue;
    if (opt === 'auth' && more >= 1) out.add(++j);
    else if (opt === 'auth2' && more >= 2) {
      out.add(++j);
      out.add(++j);
    } else break;
  }
  return out.size > 0 ? out : null;
}

/**
 * Arguments MONITOR must not show (Redis' redactClientCommandArgument):
 * AUTH's user and password, HELLO ... AUTH <user> <pass>, ACL SETUSER's
 * arguments, MIGRATE's AUTH / AUTH2 arguments. Null when none.
 */
export function redactedPositions(argv: readonly string[]): Set<number> | null {
  const name = argv[0]!.toLowerCase();
  if (name === 'config' && argv.length >= 4 && argv[1]!.toLowerCase() === 'set') return sensitiveConfigValues(argv);
  if (name === 'auth') return new Set(Array.from({ length: argv.length - 1 }, (_, i) => i + 1));
  // ACL SETUSER: the user name and every rule (passwords among them), as aclCommand redacts them.
  if (name === 'acl' && argv.length >= 3 && argv[1]!.toLowerCase() === 'setuser') return new Set(Array.from({ length: argv.length - 2 }, (_, i) => i + 2));
  if (name === 'migrate') return migrateSecrets(argv);
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

/** Parameters Redis marks SENSITIVE_CONFIG: CONFIG SET shows their values as (redacted). */
const SENSITIVE_CONFIGS = new Set(['masterauth', 'requirepass', 'tls-key-file-pass', 'tls-client-key-file-pass']);

/** CONFIG SET name value [name value ...]: the values of sensitive parameters (configSetCommand redacts them). */
function sensitiveConfigValues(argv: readonly string[]): Set<number> | null {
  let out: Set<number> | null = null;
  for (let j = 2; j + 1 < argv.length; j += 2) if (SENSITIVE_CONFIGS.has(argv[j]!.toLowerCase())) (out ??= new Set()).add(j + 1);
  return out;
}
