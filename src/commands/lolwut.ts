/**
 * LOLWUT (Redis' lolwut.c, lolwut5.c, lolwut6.c): the server's version,
 * and for `VERSION 5` and `VERSION 6` the generative art of those
 * releases. Redis 7 has no piece of its own: LOLWUT without VERSION
 * answers "Redis ver. <version>".
 *
 * VERSION 5 draws Georg Nees' Schotter in braille characters, VERSION 6 a
 * skyline in the terminal's four grays. Both are drawn with C's float
 * arithmetic (Math.fround after each operation) and C's round(), so that
 * the parts without randomness (the first two rows of Schotter) are
 * Redis' pixel for pixel.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { argLong, eq } from './util.js';
import { REDIS_VERSION } from '../version.js';

const f = Math.fround;

/** C's round(): halves away from zero. */
function cRound(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** rand() / RAND_MAX as a C float. */
function randUnit(): number {
  return f(Math.random());
}

/** C's rand() % n for a small n. */
function randBelow(n: number): number {
  return Math.floor(Math.random() * 2147483648) % n;
}

/** A grid of pixels, each a color (0-3); drawing outside it does nothing. */
class Canvas {
  readonly pixels: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: number,
  ) {
    this.pixels = new Uint8Array(width * height);
    // A new array is zeros already; filling a large one would make every page resident for nothing.
    if (background !== 0) this.pixels.fill(background);
  }

  set(x: number, y: number, color: number): void {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return;
    this.pixels[x + y * this.width] = color;
  }

  get(x: number, y: number): number {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return 0;
    return this.pixels[x + y * this.width]!;
  }

  /** Bresenham's line from (x1, y1) to (x2, y2). */
  line(x1: number, y1: number, x2: number, y2: number, color: number): void {
    const dx = Math.abs(x2 - x1);
    const dy = Math.abs(y2 - y1);
    const sx = x1 < x2 ? 1 : -1;
    const sy = y1 < y2 ? 1 : -1;
    let err = dx - dy;
    for (;;) {
      this.set(x1, y1, color);
      if (x1 === x2 && y1 === y2) return;
      const e2 = err * 2;
      if (e2 > -dy) {
        err -= dy;
        x1 += sx;
      }
      if (e2 < dx) {
        err += dx;
        y1 += sy;
      }
    }
  }

  /** A square of side `size` centered on (x, y), turned by `angle`: its corners are points of the circumscribed circle, 90 degrees apart. */
  square(x: number, y: number, size: number, angle: number, color: number): void {
    const radius = cRound(f(size / 1.4142135623));
    const px: number[] = [];
    const py: number[] = [];
    let k = f(Math.PI / 4 + angle);
    for (let j = 0; j < 4; j++) {
      px.push(cRound(Math.sin(k) * radius + x));
      py.push(cRound(Math.cos(k) * radius + y));
      k = f(k + Math.PI / 2);
    }
    for (let j = 0; j < 4; j++) this.line(px[j]!, py[j]!, px[(j + 1) % 4]!, py[(j + 1) % 4]!, color);
  }
}

/** Schotter: rows of squares, turned and moved more at random the lower they are. */
function schotter(cols: number, perRow: number, perCol: number): Canvas {
  const width = cols * 2;
  const padding = width > 4 ? 2 : 0;
  const side = f((width - padding * 2) / perRow);
  const height = Math.trunc(f(f(side * perCol) + padding * 2));
  const canvas = new Canvas(width, height, 0);
  for (let y = 0; y < perCol; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = Math.trunc(f(f(f(x * side) + f(side / 2)) + padding));
      let sy = Math.trunc(f(f(f(y * side) + f(side / 2)) + padding));
      let angle = 0;
      if (y > 1) {
        let r1 = f(f(randUnit() / perCol) * y);
        let r2 = f(f(randUnit() / perCol) * y);
        let r3 = f(f(randUnit() / perCol) * y);
        if (randBelow(2)) r1 = -r1;
        if (randBelow(2)) r2 = -r2;
        if (randBelow(2)) r3 = -r3;
        angle = r1;
        sx = Math.trunc(f(sx + f(f(r2 * side) / 3)));
        sy = Math.trunc(f(sy + f(f(r3 * side) / 3)));
      }
      canvas.square(sx, sy, side, angle, 1);
    }
  }
  return canvas;
}

/**
 * Each 2x4 block of pixels as one braille character (U+2800 plus the dots'
 * bits, three bytes of UTF-8), a line per 4 rows, followed by `trailer`.
 * Written straight into one Buffer: at 1000 columns and 200 rows of
 * squares the art is 300 MB (Redis builds it too), far past what string
 * concatenation can hold.
 */
function renderBraille(canvas: Canvas, trailer: string): Buffer {
  const { width, height, pixels } = canvas;
  const cells = (width + 1) >> 1;
  const lines = (height + 3) >> 2;
  // Redis ends each line with a newline but the one starting at row height - 1 (height 4k + 1).
  const newlines = (height - 1) % 4 === 0 ? lines - 1 : lines;
  const out = Buffer.allocUnsafe(lines * cells * 3 + newlines + trailer.length);
  // Dot bits of the 2x4 block, column by column: rows 0-2 are bits 0-2 (left) and 3-5 (right), row 3 bits 6 and 7.
  const LEFT = [0x01, 0x02, 0x04, 0x40];
  const RIGHT = [0x08, 0x10, 0x20, 0x80];
  let o = 0;
  for (let y = 0; y < height; y += 4) {
    const rows = Math.min(4, height - y);
    for (let x = 0; x < width; x += 2) {
      const right = x + 1 < width;
      let bits = 0;
      for (let r = 0; r < rows; r++) {
        const at = (y + r) * width + x;
        if (pixels[at]) bits |= LEFT[r]!;
        if (right && pixels[at + 1]) bits |= RIGHT[r]!;
      }
      out[o++] = 0xe2;
      out[o++] = 0xa0 | (bits >> 6);
      out[o++] = 0x80 | (bits & 0x3f);
    }
    if (y !== height - 1) out[o++] = 0x0a;
  }
  out.latin1Write(trailer, o);
  return out;
}

/** A skyscraper on the canvas' bottom edge; windows (two pixels wide) in a random gray. */
function skyscraper(canvas: Canvas, xoff: number, width: number, height: number, windows: boolean, color: number): void {
  const bottom = canvas.height - 1;
  const top = bottom - height + 1;
  for (let y = bottom; y >= top; y--) {
    for (let x = xoff; x < xoff + width; x++) {
      // The roof is four pixels narrower.
      if (y === top && (x <= xoff + 1 || x >= xoff + width - 2)) continue;
      let c = color;
      if (windows && x > xoff + 1 && x < xoff + width - 2 && y > top + 1 && y < bottom - 1) {
        const relx = x - (xoff + 1);
        const rely = y - (top + 1);
        if (Math.trunc(relx / 2) % 2 && rely % 2) {
          do c = 1 + randBelow(2);
          while (c === color);
          // Both pixels of a window the same gray.
          if (relx % 2) c = canvas.get(x - 1, y);
        }
      }
      canvas.set(x, y, c);
    }
  }
}

/** Two layers of windowless buildings in the grays, then black ones with windows in front. */
function skyline(canvas: Canvas): void {
  const h = canvas.height;
  for (let color = 2; color >= 1; color--) {
    for (let offset = -10; offset < canvas.width; ) {
      offset += randBelow(8);
      const width = 10 + randBelow(9);
      const height = color === 2 ? Math.trunc(h / 2) + Math.trunc(randBelow(h) / 2) : Math.trunc(h / 2) + Math.trunc(randBelow(h) / 3);
      skyscraper(canvas, offset, width, height, false, color);
      offset += color === 2 ? Math.trunc(width / 2) : width + 1;
    }
  }
  for (let offset = -10; offset < canvas.width; ) {
    offset += randBelow(8);
    let width = 5 + randBelow(14);
    if (width % 4) width += width % 3;
    const height = Math.trunc(h / 3) + Math.trunc(randBelow(h) / 2);
    skyscraper(canvas, offset, width, height, true, 0);
    offset += width + 5;
  }
}

/** Each pixel as a space in its gray, foreground and background both set as Redis does (terminals differ otherwise). */
const GRAY_CELLS = ['0;30;40m', '0;90;100m', '0;37;47m', '0;97;107m'].map((code) => Buffer.from(`\x1b[${code} \x1b[0m`, 'latin1'));

/** The canvas in grays, a line per row (up to 1000 x 1000 cells of ~20 bytes: written into one Buffer), followed by `trailer`. */
function renderGrays(canvas: Canvas, trailer: string): Buffer {
  const { width, height } = canvas;
  let size = height - 1 + trailer.length;
  for (const p of canvas.pixels) size += GRAY_CELLS[p]!.length;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) o += GRAY_CELLS[canvas.get(x, y)]!.copy(out, o);
    if (y !== height - 1) out[o++] = 0x0a;
  }
  out.latin1Write(trailer, o);
  return out;
}

/** Up to three optional integer arguments from argv[from], each a C long; null after an error reply. */
function numbers(ctx: CommandContext, argv: readonly string[], from: number, defaults: number[]): number[] | null {
  const out = defaults.slice();
  for (let i = 0; i < defaults.length && from + i < argv.length; i++) {
    const n = argLong(ctx, argv[from + i]!);
    if (n === null) return null;
    out[i] = n;
  }
  return out;
}

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

function lolwut5(ctx: CommandContext, argv: readonly string[], from: number): void {
  const args = numbers(ctx, argv, from, [66, 8, 12]);
  if (args === null) return;
  const [cols, perRow, perCol] = [clamp(args[0]!, 1, 1000), clamp(args[1]!, 1, 200), clamp(args[2]!, 1, 200)];
  ctx.reply.verbatimBytes(renderBraille(schotter(cols, perRow, perCol), `\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ${REDIS_VERSION}\n`));
}

function lolwut6(ctx: CommandContext, argv: readonly string[], from: number): void {
  const args = numbers(ctx, argv, from, [80, 20]);
  if (args === null) return;
  const canvas = new Canvas(clamp(args[0]!, 1, 1000), clamp(args[1]!, 1, 1000), 3);
  skyline(canvas);
  const trailer = `\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. ${REDIS_VERSION}\n`;
  ctx.reply.verbatimBytes(renderGrays(canvas, trailer));
}

/** LOLWUT [VERSION v] [piece arguments...] */
function lolwut(ctx: CommandContext, argv: string[]): void {
  let version = REDIS_VERSION;
  let from = 1;
  if (argv.length >= 3 && eq(argv[1]!, 'version')) {
    if (argLong(ctx, argv[2]!) === null) return;
    // Redis prints it with %u of an unsigned int: the low 32 bits (of the exact value: BigInt of the checked digits).
    version = `${BigInt.asUintN(32, BigInt(argv[2]!))}.0.0`;
    from = 3;
  }
  // Redis' test of the version string, character by character.
  if ((version[0] === '5' && version[1] === '.' && version[2] !== '9') || (version[0] === '4' && version[1] === '.' && version[2] === '9')) {
    lolwut5(ctx, argv, from);
  } else if ((version[0] === '6' && version[1] === '.' && version[2] !== '9') || (version[0] === '5' && version[1] === '.' && version[2] === '9')) {
    lolwut6(ctx, argv, from);
  } else {
    ctx.reply.verbatim(`Redis ver. ${REDIS_VERSION}\n`);
  }
}

export const lolwutCommands: CommandImpl[] = [{ name: 'lolwut', run: lolwut }];
