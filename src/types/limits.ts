/**
 * The thresholds that decide a collection's encoding, from the
 * *-max-listpack-* / *-max-intset-* configuration parameters. Each engine
 * keeps one instance, updated when the configuration changes.
 */
export class EncodingLimits {
  hashMaxListpackEntries = 512;
  hashMaxListpackValue = 64;
  setMaxIntsetEntries = 512;
  setMaxListpackEntries = 128;
  setMaxListpackValue = 64;
  zsetMaxListpackEntries = 128;
  zsetMaxListpackValue = 64;
  listMaxListpackSize = -2;
  listCompressDepth = 0;
  streamNodeMaxBytes = 4096;
  streamNodeMaxEntries = 100;
  hllSparseMaxBytes = 3000;

  /** Apply a configuration parameter; returns true if it was one of these. */
  apply(name: string, value: number): boolean {
    switch (name) {
      case 'hash-max-listpack-entries': this.hashMaxListpackEntries = value; return true;
      case 'hash-max-listpack-value': this.hashMaxListpackValue = value; return true;
      case 'set-max-intset-entries': this.setMaxIntsetEntries = value; return true;
      case 'set-max-listpack-entries': this.setMaxListpackEntries = value; return true;
      case 'set-max-listpack-value': this.setMaxListpackValue = value; return true;
      case 'zset-max-listpack-entries': this.zsetMaxListpackEntries = value; return true;
      case 'zset-max-listpack-value': this.zsetMaxListpackValue = value; return true;
      case 'list-max-listpack-size': this.listMaxListpackSize = value; return true;
      case 'list-compress-depth': this.listCompressDepth = value; return true;
      case 'stream-node-max-bytes': this.streamNodeMaxBytes = value; return true;
      case 'stream-node-max-entries': this.streamNodeMaxEntries = value; return true;
      case 'hll-sparse-max-bytes': this.hllSparseMaxBytes = value; return true;
      default: return false;
    }
  }
}
