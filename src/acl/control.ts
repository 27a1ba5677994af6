/**
 * The ACL registry as commands see it through their host (src/acl/acl.ts
 * implements it). Declared apart so that the command context can name it
 * without importing the command table back.
 */

import type { AclLog } from './log.js';
import type { User } from './user.js';

export interface AclControl {
  readonly defaultUser: User;
  readonly log: AclLog;
  get(name: string): User | undefined;
  /** Users in Redis' listing order (byte order of names). */
  list(): User[];
  /** ACL SETUSER: Redis' error text (without the ERR code), or null. */
  setUser(name: string, rules: readonly string[]): string | null;
  /** ACL DELUSER: how many were deleted (their connections are closed). */
  deleteUsers(names: readonly string[]): number;
  /** AUTH: the user when the pair is valid, else null. */
  authenticate(username: string, password: string): User | null;
  /** ACL LOAD: Redis' error text, or null. */
  loadFile(filename: string): string | null;
  /** ACL SAVE; throws on I/O errors. */
  saveFile(filename: string): void;
  /** ACL CAT <category>: the commands in it, or null for an unknown category. */
  commandsInCategory(category: string): string[] | null;
  /** ACL DRYRUN: an error reply, the refusal text, or null when `user` may run argv. */
  dryrun(user: User, argv: readonly string[]): { error: string } | { denied: string } | null;
}
