/** Linux errno texts, as strerror() prints them (Redis' MISCONF error shows them). */

const STRERROR: Record<string, string> = {
  ENOSPC: 'No space left on device',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EROFS: 'Read-only file system',
  EDQUOT: 'Disk quota exceeded',
  EBADF: 'Bad file descriptor',
  EFBIG: 'File too large',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EEXIST: 'File exists',
};

export function strerror(e: unknown): string {
  const err = e as NodeJS.ErrnoException | null;
  if (err?.code !== undefined && STRERROR[err.code] !== undefined) return STRERROR[err.code]!;
  return err?.message ?? String(e);
}
