/**
 * Delta debugging (ddmin) over a failing sequence: remove chunks while the
 * failure still reproduces, within a time budget. Works on commands and on
 * protocol frames alike.
 */

export async function shrink<T>(items: T[], reproduces: (candidate: T[]) => Promise<boolean>, budgetMs: number): Promise<T[]> {
  const deadline = Date.now() + budgetMs;
  let current = items;
  let chunks = 2;
  while (current.length > 1 && Date.now() < deadline) {
    const size = Math.ceil(current.length / chunks);
    let reduced = false;
    for (let start = 0; start < current.length && Date.now() < deadline; start += size) {
      const candidate = [...current.slice(0, start), ...current.slice(start + size)];
      if (candidate.length > 0 && (await reproduces(candidate))) {
        current = candidate;
        chunks = Math.max(chunks - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size === 1) break;
      chunks = Math.min(chunks * 2, current.length);
    }
  }
  return current;
}

/** A command or frame as readable text: printable bytes kept, the rest escaped, long runs abbreviated. */
export function printable(s: string, max = 120): string {
  const run = /^(.)\1{40,}$/s.exec(s);
  if (run) return `<${JSON.stringify(run[1])} x ${s.length}>`;
  const escaped = JSON.stringify(s).slice(1, -1);
  return escaped.length <= max ? escaped : `${escaped.slice(0, max)}...<${s.length} bytes>`;
}

export function printCommand(args: readonly string[]): string {
  return args.map((a) => (/^[\x21-\x7e]+$/.test(a) && a.length <= 120 ? a : `"${printable(a)}"`)).join(' ');
}
