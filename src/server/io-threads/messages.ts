/**
 * The messages between the main thread and the I/O threads that are not
 * bytes of the protocol: control (listen, stop) and connection facts. They
 * are packed with msgpackr (util/thread-messages.ts), one compact encoding
 * for every thread message.
 */

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
