/**
 * The replication ids of this server's history (PSYNC2): `replId` names the
 * history the command log continues, `replId2` the history it continued
 * before (the old primary's, after a promotion or a switch of primary) and
 * `secondOffset` the log offset up to which that old history is shared.
 * A replica asking `PSYNC <replId2> <offset>` with offset <= secondOffset
 * may continue from this server's log.
 */

import crypto from 'node:crypto';

/** Redis' CONFIG_RUN_ID_SIZE: 40 hex characters. */
export const REPL_ID_LENGTH = 40;
/** What replid2 reads as when there is no previous history. */
export const NO_REPL_ID = '0'.repeat(REPL_ID_LENGTH);

export function randomReplId(): string {
  return crypto.randomBytes(REPL_ID_LENGTH / 2).toString('hex');
}

export class ReplicationIds {
  replId = randomReplId();
  replId2 = NO_REPL_ID;
  /** -1: no second history. */
  secondOffset = -1;

  /**
   * Start a new history at log offset `offset`, remembering the current one
   * as the second (Redis' shiftReplicationId): a promoted replica keeps
   * serving partial resyncs to replicas of its old primary.
   */
  shift(offset: number): void {
    this.replId2 = this.replId;
    // The next byte a replica of the old history needs is offset + 1 in Redis' counting.
    this.secondOffset = offset + 1;
    this.replId = randomReplId();
  }

  /** Forget the second history (Redis' clearReplicationId2). */
  clearSecond(): void {
    this.replId2 = NO_REPL_ID;
    this.secondOffset = -1;
  }

  /**
   * Our primary continues under a new id (+CONTINUE <new id> after its own
   * promotion): the current id becomes the second, valid up to `offset`
   * (the next byte a replica of it may ask for is offset + 1), as Redis'
   * slaveTryPartialResynchronization does, so our own replicas can still
   * continue from us.
   */
  continueAs(replId: string, offset: number): void {
    if (replId === this.replId) return;
    this.replId2 = this.replId;
    this.secondOffset = offset + 1;
    this.replId = replId;
  }

  /** Adopt a primary's history (after +FULLRESYNC). */
  adopt(replId: string): void {
    this.replId = replId;
    this.clearSecond();
  }

  /** Whether `PSYNC replId offset` names a history this log continues, at an offset it has passed. */
  canContinue(replId: string, offset: number, logOffset: number): boolean {
    if (replId === this.replId) return offset <= logOffset + 1;
    return replId === this.replId2 && offset <= this.secondOffset;
  }
}
