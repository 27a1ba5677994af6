#ifndef VIREO_HEAP_REDUCE_H
#define VIREO_HEAP_REDUCE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Isolate::LowMemoryNotification on the calling thread's isolate: 1 if there was one. */
int reduce_heap(void);

#ifdef __cplusplus
}
#endif

#endif
