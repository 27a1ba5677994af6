/** The flags a script (`#!lua flags=...`) or a function (register_function's flags) declares. */

/** The shebang flags a script or function declares (Redis' scripts_flags_def). */
export interface ScriptFlags {
  /** Declared by a shebang (EVAL) or a function: not Redis' compat mode. */
  declared: boolean;
  noWrites: boolean;
  allowOom: boolean;
  allowStale: boolean;
  noCluster: boolean;
  allowCrossSlot: boolean;
}

export const COMPAT_FLAGS: ScriptFlags = {
  declared: false,
  noWrites: false,
  allowOom: false,
  allowStale: false,
  noCluster: false,
  allowCrossSlot: false,
};

export function flagsFromNames(names: readonly string[]): ScriptFlags {
  return {
    declared: true,
    noWrites: names.includes('no-writes'),
    allowOom: names.includes('allow-oom'),
    allowStale: names.includes('allow-stale'),
    noCluster: names.includes('no-cluster'),
    allowCrossSlot: names.includes('allow-cross-slot-keys'),
  };
}
