/**
 * The messages between the main thread and the I/O threads that are not
 * bytes of the protocol: control (listen, stop) and connection facts. They
 * are packed with msgpackr, one compact encoding for every thread message.
 */

import type * as Msgpackr from 'msgpackr';
import { lazyModule } from '../../util/lazy-module.js';

/** Loaded with the first I/O thread (a single-threaded server never needs it). */
const msgpackr = lazyModule<typeof Msgpackr>('msgpackr');

/** What an I/O thread is started with. */
export interface WorkerData {
  index: number;
  threads: number;
  /** Its ring towards the main thread, and the main thread's ring towards it. */
  up: SharedArrayBuffer;
  down: SharedArrayBuffer;
}

/** A connection an I/O thread accepted (the Open message's bytes). */
export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  fd: number;
}

export type ToWorker =
  | { op: 'listen'; id: number; fd: number; keepaliveMs: number }
  | { op: 'unlisten'; id: number }
  | { op: 'keepalive'; keepaliveMs: number }
  | { op: 'stop' };

export type FromWorker =
  | { op: 'ready' }
  | { op: 'listening'; id: number; error: string | null }
  | { op: 'unlistened'; id: number }
  | { op: 'stopped' };

let packr: Msgpackr.Packr | null = null;
const packer = (): Msgpackr.Packr => (packr ??= new (msgpackr().Packr)({ useRecords: false }));

export function encodeControl(msg: unknown): Buffer {
  return packer().pack(msg);
}

export function decodeControl(bytes: Uint8Array): unknown {
  return packer().unpack(bytes);
}
