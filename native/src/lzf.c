/*
 * LZF compression for RDB strings, the same algorithm as persistence/rdb/lzf.ts
 * (byte for byte: test/lzf.test.ts compares the two), in C because it is most
 * of a snapshot's CPU: about 7 ns a byte in JS, a fraction of that here.
 *
 *   lzfCompress(input, inStart, n, out, outStart, maxOut) -> compressed length, 0 if it
 *     does not fit in maxOut bytes (lzfCompressInto in lzf.ts)
 *   lzfSpans(chunk, spans, out) -> bytes written: compressSpans of lzf-spans.ts, a whole
 *     chunk of a deferred RDB per call
 */
#include <stdint.h>
#include <string.h>
#include <node_api.h>

#include "lzf.h"

#define HLOG 14
#define HSIZE (1 << HLOG)
#define MAX_LIT (1 << 5)
#define MAX_OFF (1 << 13)
#define MAX_REF ((1 << 8) + (1 << 3))

/* The match table, one per thread (the event loop and the save worker both compress). An
   entry holds a position plus its call's offset, so entries of earlier calls read as
   positions before the input and are ignored: no clearing per call (lzf.ts explains). */
static __thread int32_t table[HSIZE];
static __thread int64_t base = 1;

/* Literal runs of in[start, end) at out[op]; the new position, or -1 past limit. */
static int64_t flush_literals(const uint8_t *in, int64_t start, int64_t end, uint8_t *out, int64_t op, int64_t limit) {
  while (start < end) {
    int64_t run = end - start < MAX_LIT ? end - start : MAX_LIT;
    if (op + run + 1 > limit) return -1;
    out[op++] = (uint8_t)(run - 1);
    memcpy(out + op, in + start, (size_t)run);
    op += run;
    start += run;
  }
  return op;
}

size_t lzf_compress_into(const uint8_t *in, size_t n_, uint8_t *out, size_t max_out) {
  int64_t n = (int64_t)n_;
  if (n < 4) return 0;
  if (base > 0x3fffffff - n) {
    memset(table, 0, sizeof table);
    base = 1;
  }
  int64_t shift = base;
  base += n + 1;
  int64_t limit = (int64_t)max_out;
  int64_t op = 0;
  int64_t lit_start = 0;
  int64_t ip = 0;
  uint32_t v = ((uint32_t)in[0] << 8) | in[1];
  while (ip + 2 < n) {
    v = ((v << 8) | in[ip + 2]) & 0xffffff;
    uint32_t h = (uint32_t)(v * 2654435761u) >> (32 - HLOG);
    int64_t ref = (int64_t)table[h] - shift;
    table[h] = (int32_t)(ip + shift);
    int64_t off = ip - ref - 1;
    if (ref >= 0 && off >= 0 && off < MAX_OFF && in[ref] == in[ip] && in[ref + 1] == in[ip + 1] && in[ref + 2] == in[ip + 2]) {
      int64_t max_len = n - ip < MAX_REF ? n - ip : MAX_REF;
      int64_t len = 3;
      while (len < max_len && in[ref + len] == in[ip + len]) len++;
      op = flush_literals(in, lit_start, ip, out, op, limit);
      if (op < 0 || op + 3 > limit) return 0;
      int64_t l = len - 2;
      if (l < 7) {
        out[op++] = (uint8_t)((off >> 8) | (l << 5));
      } else {
        out[op++] = (uint8_t)((off >> 8) | (7 << 5));
        out[op++] = (uint8_t)(l - 7);
      }
      out[op++] = (uint8_t)(off & 0xff);
      ip += len;
      lit_start = ip;
      if (ip + 1 < n) v = ((uint32_t)in[ip] << 8) | in[ip + 1];
      continue;
    }
    ip++;
  }
  op = flush_literals(in, lit_start, n, out, op, limit);
  return op < 0 ? 0 : (size_t)op;
}

/* RDB's length encoding (format.ts writeLen). */
static size_t write_len(uint8_t *p, uint64_t n) {
  if (n < (1 << 6)) {
    p[0] = (uint8_t)n;
    return 1;
  }
  if (n < (1 << 14)) {
    p[0] = (uint8_t)((n >> 8) | 0x40);
    p[1] = (uint8_t)(n & 0xff);
    return 2;
  }
  if (n <= 0xffffffffu) {
    p[0] = 0x80;
    for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(n >> (24 - 8 * i));
    return 5;
  }
  p[0] = 0x81;
  for (int i = 0; i < 8; i++) p[1 + i] = (uint8_t)(n >> (56 - 8 * i));
  return 9;
}

/* format.ts looksCompressible: past 16 MB, LZF is tried only if one of 16 windows of 64 KB
   spread over the value saves 1/32 of its bytes. */
#define SAMPLED_LZF_BYTES (16 * 1024 * 1024)
#define SAMPLE_WINDOWS 16
#define SAMPLE_BYTES (64 * 1024)
static __thread uint8_t sample_out[SAMPLE_BYTES];

static int looks_compressible(const uint8_t *b, size_t len) {
  if (len < SAMPLED_LZF_BYTES) return 1;
  size_t step = (len - SAMPLE_BYTES) / (SAMPLE_WINDOWS - 1);
  for (int i = 0; i < SAMPLE_WINDOWS; i++) {
    if (lzf_compress_into(b + i * step, SAMPLE_BYTES, sample_out, SAMPLE_BYTES - SAMPLE_BYTES / 32) > 0) return 1;
  }
  return 0;
}

/* Room before a compressed body for its header: the encoding byte and two lengths. */
#define HEADER_ROOM 19
#define RDB_ENC_LZF 3

static int typed(napi_env env, napi_value v, napi_typedarray_type want, size_t *len, void **data) {
  napi_typedarray_type t;
  return napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) == napi_ok && t == want;
}

napi_value lzf_compress_napi(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  size_t in_len, out_len;
  void *in, *out;
  int64_t in_start, n, out_start, max_out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 || !typed(env, argv[0], napi_uint8_array, &in_len, &in) ||
      napi_get_value_int64(env, argv[1], &in_start) != napi_ok || napi_get_value_int64(env, argv[2], &n) != napi_ok ||
      !typed(env, argv[3], napi_uint8_array, &out_len, &out) || napi_get_value_int64(env, argv[4], &out_start) != napi_ok ||
      napi_get_value_int64(env, argv[5], &max_out) != napi_ok || in_start < 0 || n < 0 || (uint64_t)(in_start + n) > in_len ||
      out_start < 0 || max_out < 0 || (uint64_t)(out_start + max_out) > out_len) {
    napi_throw_type_error(env, NULL, "vireo_lua: bad call: lzfCompress(input, inStart, n, out, outStart, maxOut)");
    return NULL;
  }
  size_t clen = lzf_compress_into((const uint8_t *)in + in_start, (size_t)n, (uint8_t *)out + out_start, (size_t)max_out);
  napi_value result;
  napi_create_double(env, (double)clen, &result);
  return result;
}

napi_value lzf_spans_napi(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  size_t chunk_len, span_ints, out_len;
  void *chunk_p, *spans_p, *out_p;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || !typed(env, argv[0], napi_uint8_array, &chunk_len, &chunk_p) ||
      !typed(env, argv[1], napi_int32_array, &span_ints, &spans_p) || !typed(env, argv[2], napi_uint8_array, &out_len, &out_p) ||
      span_ints % 3 != 0 || out_len < chunk_len + HEADER_ROOM) {
    napi_throw_type_error(env, NULL, "vireo_lua: bad call: lzfSpans(chunk, spans, out)");
    return NULL;
  }
  const uint8_t *chunk = chunk_p;
  const int32_t *spans = spans_p;
  uint8_t *out = out_p;
  size_t op = 0, from = 0;
  for (size_t i = 0; i < span_ints; i += 3) {
    int64_t header = spans[i], body = spans[i + 1], len = spans[i + 2];
    if (header < (int64_t)from || body < header || len < 0 || (uint64_t)(body + len) > chunk_len) {
      napi_throw_range_error(env, NULL, "vireo_lua: lzfSpans: a span out of order or past the chunk");
      return NULL;
    }
    memmove(out + op, chunk + from, (size_t)header - from);
    op += (size_t)header - from;
    from = (size_t)(body + len);
    size_t clen = len > 4 && looks_compressible(chunk + body, (size_t)len)
                      ? lzf_compress_into(chunk + body, (size_t)len, out + op + HEADER_ROOM, (size_t)len - 4)
                      : 0;
    if (clen == 0) {
      memmove(out + op, chunk + header, from - (size_t)header);
      op += from - (size_t)header;
      continue;
    }
    size_t packed = op + HEADER_ROOM;
    out[op++] = 0xc0 | RDB_ENC_LZF;
    op += write_len(out + op, clen);
    op += write_len(out + op, (uint64_t)len);
    memmove(out + op, out + packed, clen);
    op += clen;
  }
  memmove(out + op, chunk + from, chunk_len - from);
  op += chunk_len - from;
  napi_value result;
  napi_create_double(env, (double)op, &result);
  return result;
}
