/**
 * The messages between the main thread and the save worker
 * (save-worker-thread.ts). The control part of each is packed with
 * msgpackr (src/util/thread-messages.ts), the project's one encoding for
 * thread messages; a chunk's
 * bytes and spans are in a shared slot (or, rarely, transferred beside).
 */

/**
 * Chunks cross in slots of one SharedArrayBuffer the worker gets at start:
 * a chunk's bytes, then its spans. Copying a chunk into a slot costs less
 * than handing buffers over: every buffer transferred arrives as new
 * external memory on the other side, and that growth made V8 run full
 * collections on the event loop in the middle of a save.
 */
export const SLOT_BYTES = 256 * 1024;
/** Room for the most spans a full slot can have: the shortest string marked is 21 bytes plus its length byte. */
export const SLOT_SPAN_INTS = 3 * Math.ceil(SLOT_BYTES / 22);
export const SLOTS = 16;
export const SLOT_STRIDE = SLOT_BYTES + 4 * SLOT_SPAN_INTS;

/** What the worker is started with. */
export interface SaveWorkerData {
  /** SLOTS slots of SLOT_STRIDE bytes: the bytes at the start, the spans (int32) after SLOT_BYTES. */
  slots: SharedArrayBuffer;
}

export type ToSaveWorker =
  /**
   * A file to write: the worker writes `fd` until 'drop' (the main thread
   * opened it and closes it); fd -1: no file, the output comes back with
   * each 'written'.
   */
  | { op: 'open'; job: number; fd: number; incrementalFsync: boolean; checksum: boolean }
  /**
   * `length` bytes and `spans` span ints in slot `slot`; slot -1: bytes and
   * spans travel beside the message (a chunk too large for a slot, a long value).
   */
  | { op: 'chunk'; job: number; slot: number; length: number; spans: number }
  /** The checksum trailer (or 8 zero bytes). */
  | { op: 'end'; job: number }
  /** fsync (unless told not to: a file deleted once sent), then answer 'finished'. */
  | { op: 'finish'; job: number; fsync: boolean }
  /** Forget the job (after what is in flight), answer 'dropped'. */
  | { op: 'drop'; job: number };

export type FromSaveWorker =
  /**
   * A chunk of `bytes` input bytes was handled (written, or dropped after a
   * failure); its slot (or -1) is free again. A job without a file gets its
   * output beside (after 'end': the trailer, with bytes 0).
   */
  | { op: 'written'; job: number; bytes: number; slot: number }
  /** The first write error of the job; later chunks are dropped. */
  | { op: 'failed'; job: number; message: string; code: string | null }
  | { op: 'finished'; job: number; message: string | null; code: string | null }
  | { op: 'dropped'; job: number };

/** One message as posted: the packed control part, and a chunk's bytes and spans when not in a slot. */
export interface SaveWorkerPost {
  head: Uint8Array;
  bytes?: Uint8Array;
  spans?: Int32Array;
}
