/* LZF compression of RDB strings (lzf.c). */
#ifndef VIREO_LZF_H
#define VIREO_LZF_H

#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

size_t lzf_compress_into(const uint8_t *in, size_t n, uint8_t *out, size_t max_out);
napi_value lzf_compress_napi(napi_env env, napi_callback_info info);
napi_value lzf_spans_napi(napi_env env, napi_callback_info info);

#endif
