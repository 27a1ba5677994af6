/**
 * Redis Cluster hash slot of a key: CRC16/XMODEM of the key, or of the part
 * between the first '{' and the next '}' when that part is not empty.
 *
 * Written here rather than taken from cluster-key-slot: that package UTF-8
 * encodes JS strings (and allocates an array per call), while Vireo keys are
 * latin1 byte strings, so bytes >= 0x80 would land in the wrong slot.
 * test/slot.test.ts checks both agree on ASCII keys.
 */

export const SLOTS = 16384;

/** A per-slot array of tables, all empty (filled, so every such array has the same elements kind). */
export function emptySlotTables<T>(): (T | undefined)[] {
  return new Array<T | undefined>(SLOTS).fill(undefined);
}

const CRC16_TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  CRC16_TABLE[i] = crc;
}

/** CRC16/XMODEM of the bytes so far (`crc`), then `byte` (loops that hash a key's bytes for more than its slot take it one byte at a time). */
export function crc16Step(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
}

function crc16(s: string, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = crc16Step(crc, s.charCodeAt(i));
  return crc;
}

export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) & 0x3fff;
  }
  return crc16(key, 0, key.length) & 0x3fff;
}

function crc16Bytes(b: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = crc16Step(crc, b[i]!);
  return crc;
}

/** keySlot of the key whose latin1 bytes are b[start, end). */
export function keySlotOfBytes(b: Uint8Array, start: number, end: number): number {
  for (let open = start; open < end; open++) {
    if (b[open] !== 0x7b) continue;
    for (let close = open + 1; close < end; close++) {
      if (b[close] !== 0x7d) continue;
      if (close > open + 1) return crc16Bytes(b, open + 1, close) & 0x3fff;
      break;
    }
    break;
  }
  return crc16Bytes(b, start, end) & 0x3fff;
}
