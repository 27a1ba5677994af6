/*
 * Blocking client sockets with timeouts, for MIGRATE. Redis runs MIGRATE
 * synchronously (connSyncWrite, connSyncReadLine): the server waits for the
 * target's replies inside the command, so the keys it moves cannot change
 * between their serialization and their deletion. Vireo does the same: these
 * calls block the event loop for at most the command's timeout per step.
 *
 *   syncConnect(host, port, timeoutMs) -> fd; -1 when no connection could
 *       be started (resolution, an immediate refusal), -2 when it was
 *       started and failed or timed out (Redis finds that one at its write)
 *   syncWrite(fd, bytes, timeoutMs) -> bytes written (fewer: error or timeout)
 *   syncReadLines(fd, count, timeoutMs) -> [lines, status]: up to `count`
 *       lines without their CRLF (latin1), status 0 when all came, 1 on a
 *       timeout, 2 on an error or the peer closing
 *   syncClose(fd)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sync_socket.h"

/* A reply line longer than this is cut (Redis reads them into 1 KB buffers). */
#define LINE_MAX_BYTES 1024
/* At most this many lines in one call: the caller asks for one per command it sent. */
#define LINES_MAX 1000000

enum { READ_OK = 0, READ_TIMEOUT = 1, READ_ERROR = 2 };

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd for up to timeout_ms: 1 ready, 0 timed out, -1 error. */
static int wait_for(int fd, short events, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = events};
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - now_ms();
    if (left < 0) left = 0;
    int n = poll(&p, 1, (int)left);
    if (n > 0) return (p.revents & (events | POLLHUP | POLLERR)) ? 1 : -1;
    if (n == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

/* Start a connection to one address: the socket, or -1. */
static int start_one(const struct addrinfo *a) {
  int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
  if (fd < 0) return -1;
  if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Wait for a started connection: fd when it is up, else -2 (closed). */
static int finish(int fd, int timeout_ms) {
  int err = 0;
  socklen_t len = sizeof err;
  if (wait_for(fd, POLLOUT, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    close(fd);
    return -2;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int sync_connect(const char *host, const char *port, int timeout_ms) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *found = NULL;
  if (getaddrinfo(host, port, &hints, &found) != 0) return -1;
  /* As Redis' anetTcpNonBlockConnect: the first address a connection starts to is the one. */
  int fd = -1;
  for (struct addrinfo *a = found; a != NULL && fd < 0; a = a->ai_next) fd = start_one(a);
  freeaddrinfo(found);
  return fd < 0 ? -1 : finish(fd, timeout_ms);
}

long sync_write(int fd, const char *buf, size_t len, int timeout_ms) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLOUT, timeout_ms) == 1) continue;
    break;
  }
  return (long)done;
}

void sync_close(int fd) {
  if (fd >= 0) close(fd);
}

/* ---- N-API glue ---------------------------------------------------------- */

#define CALL_OK(call) ((call) == napi_ok)

static int arg_int(napi_env env, napi_value v, int64_t *out) {
  return CALL_OK(napi_get_value_int64(env, v, out));
}

static napi_value int_value(napi_env env, int64_t n) {
  napi_value out = NULL;
  napi_create_int64(env, n, &out);
  return out;
}

static napi_value bad_call(napi_env env, const char *usage) {
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

static napi_value sync_connect_napi(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char host[1024], port[32];
  size_t hl, pl;
  int64_t timeout;
  if (!CALL_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)) || argc < 3 ||
      !CALL_OK(napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl)) ||
      !CALL_OK(napi_get_value_string_utf8(env, argv[1], port, sizeof port, &pl)) || !arg_int(env, argv[2], &timeout) ||
      timeout < 0 || timeout > 0x7fffffff)
    return bad_call(env, "vireo_lua: bad call: syncConnect(host, port, timeoutMs)");
  /* A host name cut by the buffer would resolve to another host. */
  if (hl >= sizeof host - 1) return int_value(env, -1);
  return int_value(env, sync_connect(host, port, (int)timeout));
}

static napi_value sync_write_napi(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t fd, timeout;
  void *data;
  size_t len;
  if (!CALL_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)) || argc < 3 || !arg_int(env, argv[0], &fd) ||
      !CALL_OK(napi_get_buffer_info(env, argv[1], &data, &len)) || !arg_int(env, argv[2], &timeout) || fd < 0 ||
      timeout < 0 || timeout > 0x7fffffff)
    return bad_call(env, "vireo_lua: bad call: syncWrite(fd, buffer, timeoutMs)");
  return int_value(env, sync_write((int)fd, data, len, (int)timeout));
}

/* Read until `count` lines came (or a timeout, an error): each line becomes a latin1 string. */
static napi_value sync_read_lines_napi(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t fd, count, timeout;
  if (!CALL_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)) || argc < 3 || !arg_int(env, argv[0], &fd) ||
      !arg_int(env, argv[1], &count) || !arg_int(env, argv[2], &timeout) || fd < 0 || count < 0 || count > LINES_MAX ||
      timeout < 0 || timeout > 0x7fffffff)
    return bad_call(env, "vireo_lua: bad call: syncReadLines(fd, count, timeoutMs)");
  napi_value lines, out;
  if (!CALL_OK(napi_create_array(env, &lines))) return NULL;
  char line[LINE_MAX_BYTES];
  size_t line_len = 0;
  char buf[16384];
  int64_t got = 0;
  int status = READ_OK;
  while (got < count) {
    int ready = wait_for((int)fd, POLLIN, (int)timeout);
    if (ready != 1) {
      status = ready == 0 ? READ_TIMEOUT : READ_ERROR;
      break;
    }
    /* Looked at first: nothing past the last line wanted is taken from the socket. */
    ssize_t n = recv((int)fd, buf, sizeof buf, MSG_PEEK);
    if (n <= 0) {
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      status = READ_ERROR;
      break;
    }
    /* Consume up to the end of the last line wanted. */
    ssize_t take = 0;
    int64_t ends = got;
    while (take < n && ends < count) {
      if (buf[take++] == '\n') ends++;
    }
    n = recv((int)fd, buf, (size_t)take, 0);
    if (n <= 0) {
      status = READ_ERROR;
      break;
    }
    for (ssize_t i = 0; i < n; i++) {
      char ch = buf[i];
      if (ch != '\n') {
        if (line_len < sizeof line) line[line_len++] = ch;
        continue;
      }
      size_t len = line_len > 0 && line[line_len - 1] == '\r' ? line_len - 1 : line_len;
      napi_value s;
      if (!CALL_OK(napi_create_string_latin1(env, line, len, &s)) || !CALL_OK(napi_set_element(env, lines, (uint32_t)got, s)))
        return NULL;
      got++;
      line_len = 0;
    }
  }
  if (!CALL_OK(napi_create_array_with_length(env, 2, &out)) || !CALL_OK(napi_set_element(env, out, 0, lines)) ||
      !CALL_OK(napi_set_element(env, out, 1, int_value(env, status))))
    return NULL;
  return out;
}

static napi_value sync_close_napi(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t fd;
  if (!CALL_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)) || argc < 1 || !arg_int(env, argv[0], &fd))
    return bad_call(env, "vireo_lua: bad call: syncClose(fd)");
  sync_close((int)fd);
  return NULL;
}

napi_status sync_socket_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"syncConnect", NULL, sync_connect_napi, NULL, NULL, NULL, napi_default, NULL},
      {"syncWrite", NULL, sync_write_napi, NULL, NULL, NULL, napi_default, NULL},
      {"syncReadLines", NULL, sync_read_lines_napi, NULL, NULL, NULL, napi_default, NULL},
      {"syncClose", NULL, sync_close_napi, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
