/**
 * The one encoding for messages between threads that are not raw bytes
 * (control, connection facts, save jobs): msgpackr, loaded at its first
 * use (a single-threaded server that never saves in the background never
 * needs it).
 */

import type * as Msgpackr from 'msgpackr';
import { lazyModule } from './lazy-module.js';

const msgpackr = lazyModule<typeof Msgpackr>('msgpackr');

let packr: Msgpackr.Packr | null = null;
const packer = (): Msgpackr.Packr => (packr ??= new (msgpackr().Packr)({ useRecords: false }));

export function packMessage(msg: unknown): Buffer {
  return packer().pack(msg);
}

export function unpackMessage(bytes: Uint8Array): unknown {
  return packer().unpack(bytes);
}
