#ifndef VIREO_SYNC_SOCKET_H
#define VIREO_SYNC_SOCKET_H
#include <stddef.h>
#include <node_api.h>

/* A connected TCP socket (non-blocking, TCP_NODELAY) to host:port within timeout_ms; -1: none could
   be started (resolution, immediate refusal); -2: one started and failed or timed out. */
int sync_connect(const char *host, const char *port, int timeout_ms);
/* Write all of buf, waiting up to timeout_ms each time the socket is full: the bytes written. */
long sync_write(int fd, const char *buf, size_t len, int timeout_ms);
void sync_close(int fd);
/* Add syncConnect, syncWrite, syncReadLines and syncClose to the addon's exports. */
napi_status sync_socket_define(napi_env env, napi_value exports);

#endif
