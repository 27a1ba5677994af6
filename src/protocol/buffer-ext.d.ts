// Node's Buffer has fast latin1 (one byte per char) accessors that
// @types/node does not declare. Vireo keeps bytes as latin1 strings, so the
// hot paths use them directly.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(str: string, offset?: number, length?: number): number;
  }
}
export {};
