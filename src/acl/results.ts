/** The outcomes of an ACL check (Redis' ACL_OK / ACL_DENIED_*), shared by the check, the log and their callers. */
export const ACL_OK = 0;
export const ACL_DENIED_CMD = 1;
export const ACL_DENIED_KEY = 2;
export const ACL_DENIED_AUTH = 3;
export const ACL_DENIED_CHANNEL = 4;
