/*
 * Prototype of a third I/O model for one thread (bench/proto/run-native-poll.mjs):
 * the sockets are polled by libuv from C (uv_poll_t, no Node stream handle),
 * every read of an event-loop turn lands in one shared arena, and JS is
 * entered once per turn (a uv_check_t after the poll phase) with the list of
 * (connection, offset, length); JS returns the replies as the same kind of
 * list and C writes them. It measures what Node's per-socket callback glue
 * (MakeCallback, handle scopes, the stream binding) costs against one entry
 * per turn. Not a server: no backpressure (replies are assumed to fit the
 * socket buffer), no TLS, a fixed table of 4096 connections.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <fcntl.h>

#define MAXC 4096
#define ARENA (4 << 20)
typedef struct { uv_poll_t poll; int fd; int id; int open; } Conn;
static Conn *conns[MAXC];
static uv_poll_t listen_poll;
static uv_check_t check;
static napi_env g_env;
static napi_ref cb_ref;
static uint8_t *in_arena, *out_arena;
static int32_t *events; // triples: id, off, len (len<0: closed)
static int32_t *outs;   // triples: id, off, len
static int nev = 0, in_used = 0;

static void on_conn(uv_poll_t *h, int status, int ev) {
  Conn *c = h->data;
  for (;;) {
    if (in_used + 65536 > ARENA) return; // next turn
    ssize_t n = read(c->fd, in_arena + in_used, 65536);
    if (n > 0) {
      events[nev * 3] = c->id; events[nev * 3 + 1] = in_used; events[nev * 3 + 2] = (int32_t)n;
      nev++; in_used += n;
      if (n < 65536) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    uv_poll_stop(&c->poll);
    close(c->fd);
    c->open = 0;
    events[nev * 3] = c->id; events[nev * 3 + 1] = 0; events[nev * 3 + 2] = -1; nev++;
    return;
  }
}

static void on_listen(uv_poll_t *h, int status, int ev) {
  int lfd = *(int *)h->data;
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int id = -1;
    for (int i = 0; i < MAXC; i++) if (conns[i] == NULL || !conns[i]->open) { id = i; break; }
    if (id < 0) { close(fd); continue; }
    Conn *c = conns[id] ? conns[id] : calloc(1, sizeof *c);
    conns[id] = c; c->fd = fd; c->id = id; c->open = 1; c->poll.data = c;
    uv_poll_init(uv_default_loop(), &c->poll, fd);
    uv_poll_start(&c->poll, UV_READABLE, on_conn);
  }
}

static void on_check(uv_check_t *h) {
  if (nev == 0) return;
  napi_handle_scope scope;
  napi_open_handle_scope(g_env, &scope);
  napi_value cb, global, arg, ret;
  napi_get_reference_value(g_env, cb_ref, &cb);
  napi_get_global(g_env, &global);
  napi_create_int32(g_env, nev, &arg);
  int n = nev; nev = 0; in_used = 0;
  napi_call_function(g_env, global, cb, 1, &arg, &ret);
  int32_t nout = 0;
  napi_get_value_int32(g_env, ret, &nout);
  for (int i = 0; i < nout; i++) {
    Conn *c = conns[outs[i * 3]];
    if (c == NULL || !c->open) continue;
    ssize_t w = write(c->fd, out_arena + outs[i * 3 + 1], outs[i * 3 + 2]);
    (void)w; // prototype: replies are small, assume the socket takes them
  }
  napi_close_handle_scope(g_env, scope);
  (void)n;
}

static int lfd_store;
// start(port, cb) -> { in, out, events, outs }
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t port; napi_get_value_int32(env, argv[0], &port);
  napi_create_reference(env, argv[1], 1, &cb_ref);
  g_env = env;
  napi_value res, ab, ta;
  napi_create_object(env, &res);
  void *p;
  napi_create_arraybuffer(env, ARENA, &p, &ab); in_arena = p;
  napi_create_typedarray(env, napi_uint8_array, ARENA, ab, 0, &ta); napi_set_named_property(env, res, "input", ta);
  napi_create_arraybuffer(env, ARENA, &p, &ab); out_arena = p;
  napi_create_typedarray(env, napi_uint8_array, ARENA, ab, 0, &ta); napi_set_named_property(env, res, "output", ta);
  napi_create_arraybuffer(env, 3 * 4 * 65536, &p, &ab); events = p;
  napi_create_typedarray(env, napi_int32_array, 3 * 65536, ab, 0, &ta); napi_set_named_property(env, res, "events", ta);
  napi_create_arraybuffer(env, 3 * 4 * 65536, &p, &ab); outs = p;
  napi_create_typedarray(env, napi_int32_array, 3 * 65536, ab, 0, &ta); napi_set_named_property(env, res, "outs", ta);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1; setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = htonl(0x7f000001);
  bind(lfd, (struct sockaddr *)&a, sizeof a); listen(lfd, 511);
  lfd_store = lfd; listen_poll.data = &lfd_store;
  uv_loop_t *loop; napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &listen_poll, lfd);
  uv_poll_start(&listen_poll, UV_READABLE, on_listen);
  uv_check_init(loop, &check);
  uv_check_start(&check, on_check);
  return res;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, start, NULL, &fn);
  napi_set_named_property(env, exports, "start", fn);
  return exports;
}
NAPI_MODULE(nio, init)
