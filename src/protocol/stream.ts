/**
 * A reply produced in pieces. A command whose reply size is set by a
 * client's count rather than by stored data (SRANDMEMBER key -1000000000)
 * must not build it at once: the connection pulls it piece by piece while
 * the socket takes it, so memory stays bounded, other clients are served
 * in between, and the output-buffer limit can close a client that does not
 * read.
 */

import type { ReplyWriter } from './writer.js';

export interface ReplyStream {
  /**
   * Write the next piece (about `bytes` long) into `reply`. Returns true
   * when the reply is complete.
   */
  fill(reply: ReplyWriter, bytes: number): boolean;
}
