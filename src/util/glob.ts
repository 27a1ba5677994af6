/**
 * Redis' glob matcher (util.c stringmatchlen), reproduced step for step so
 * KEYS, SCAN MATCH, PSUBSCRIBE and CONFIG GET agree with Redis on every
 * pattern, including escapes, classes, unterminated brackets and the
 * nesting limit that protects against abusive patterns. Characters compare
 * as C `char` (signed), which matters for ranges over bytes >= 0x80.
 */

function signedChar(code: number): number {
  return code >= 128 ? code - 256 : code;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

interface MatchState {
  skipLongerMatches: boolean;
}

function matchImpl(
  pat: string,
  p: number,
  str: string,
  s: number,
  nocase: boolean,
  state: MatchState,
  nesting: number,
): boolean {
  if (nesting > 1000) return false;
  const plen = pat.length;
  const slen = str.length;
  while (p < plen && s < slen) {
    const pc = pat.charCodeAt(p);
    switch (pc) {
      case 42: {
        // '*'
        while (p + 1 < plen && pat.charCodeAt(p + 1) === 42) p++;
        if (p + 1 === plen) return true;
        while (s < slen) {
          if (matchImpl(pat, p + 1, str, s, nocase, state, nesting + 1)) return true;
          if (state.skipLongerMatches) return false;
          s++;
        }
        state.skipLongerMatches = true;
        return false;
      }
      case 63: // '?'
        s++;
        break;
      case 91: {
        // '['
        p++;
        const not = p < plen && pat.charCodeAt(p) === 94;
        if (not) p++;
        let match = false;
        const c0 = str.charCodeAt(s);
        for (;;) {
          if (p < plen && pat.charCodeAt(p) === 92 && plen - p >= 2) {
            p++;
            if (pat.charCodeAt(p) === c0) match = true;
          } else if (p < plen && pat.charCodeAt(p) === 93) {
            break;
          } else if (p >= plen) {
            p--;
            break;
          } else if (plen - p >= 3 && pat.charCodeAt(p + 1) === 45) {
            let start = signedChar(pat.charCodeAt(p));
            let end = signedChar(pat.charCodeAt(p + 2));
            let c = signedChar(c0);
            if (start > end) {
              const t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = lower(start);
              end = lower(end);
              c = lower(c);
            }
            p += 2;
            if (c >= start && c <= end) match = true;
          } else if (!nocase) {
            if (pat.charCodeAt(p) === c0) match = true;
          } else if (lower(pat.charCodeAt(p)) === lower(c0)) {
            match = true;
          }
          p++;
        }
        if (not) match = !match;
        if (!match) return false;
        s++;
        break;
      }
      default: {
        if (pc === 92 && plen - p >= 2) p++; // '\\' escapes the next char
        const a = pat.charCodeAt(p);
        const b = str.charCodeAt(s);
        if (nocase ? lower(a) !== lower(b) : a !== b) return false;
        s++;
        break;
      }
    }
    p++;
    if (s === slen) {
      while (p < plen && pat.charCodeAt(p) === 42) p++;
      break;
    }
  }
  return p >= plen && s === slen;
}

/** True if `str` matches the glob `pattern` (Redis semantics). */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  return matchImpl(pattern, 0, str, 0, nocase, { skipLongerMatches: false }, 0);
}

/** A matcher for one pattern, with the common "match everything" case short-circuited. */
export function globMatcher(pattern: string, nocase = false): (s: string) => boolean {
  if (pattern === '*') return () => true;
  if (!nocase && !/[*?[\\]/.test(pattern)) return (s) => s === pattern;
  return (s) => globMatch(pattern, s, nocase);
}
