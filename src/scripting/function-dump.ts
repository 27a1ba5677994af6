/**
 * FUNCTION DUMP / FUNCTION RESTORE payloads, as Redis lays them out: for
 * each library RDB_OPCODE_FUNCTION2 (245) and its code as an RDB string
 * (LZF when rdbcompression says and it pays), then the RDB version (2 bytes
 * little endian) and the CRC-64 of everything before (8 bytes little
 * endian) — the footer of a key's DUMP payload.
 */

import { Crc64 } from '../../persistence/rdb/crc64.js';
import { RDB_OPCODE, RDB_VERSION_MAX_READ, RDB_VERSION_WRITTEN, RdbError, RdbInput, RdbOutput } from '../../persistence/rdb/format.js';

/** Version and checksum after the libraries. */
const FOOTER_BYTES = 10;

export const PAYLOAD_DAMAGED = 'DUMP payload version or checksum are wrong';

/** The payload of `codes` (each library's code, shebang included). */
export function dumpFunctions(codes: readonly string[], compress: boolean): Buffer {
  const out = new RdbOutput(1024);
  for (const code of codes) {
    out.u8(RDB_OPCODE.FUNCTION2);
    out.string(code, compress);
  }
  const body = out.take();
  const version = Buffer.alloc(2);
  version.writeUInt16LE(RDB_VERSION_WRITTEN, 0);
  const crc = new Crc64().update(body).update(version).digestLE();
  return Buffer.concat([body, version, crc]);
}

/**
 * The libraries' code in a payload, or Redis' error text: the footer is
 * checked first (verifyDumpPayload), then records are read until only the
 * footer is left, each of which must be a FUNCTION2 record. Like Redis, a
 * damaged record may read into the footer.
 */
export function readFunctionPayload(payload: Buffer): string[] | string {
  if (payload.length < FOOTER_BYTES) return PAYLOAD_DAMAGED;
  const footer = payload.length - FOOTER_BYTES;
  const version = payload.readUInt16LE(footer);
  const crc = new Crc64().update(payload, 0, footer + 2).digestLE();
  if (version > RDB_VERSION_MAX_READ || !crc.equals(payload.subarray(footer + 2))) return PAYLOAD_DAMAGED;
  const inp = new RdbInput(payload);
  const codes: string[] = [];
  while (payload.length - inp.pos > FOOTER_BYTES) {
    const type = inp.u8();
    if (type === RDB_OPCODE.FUNCTION_PRE_GA) return 'Pre-GA function format not supported';
    if (type !== RDB_OPCODE.FUNCTION2) return 'given type is not a function';
    try {
      codes.push(inp.string());
    } catch (e) {
      if (e instanceof RdbError) return 'Failed loading library payload';
      throw e;
    }
  }
  return codes;
}
