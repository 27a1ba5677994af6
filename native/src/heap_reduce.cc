// V8's own "give memory back" collection, which neither the gc() of
// --expose-gc nor any Node API reaches: Isolate::LowMemoryNotification runs
// full collections with the reduce-memory-footprint flag until one frees
// nothing more, then shrinks the young generation to its minimum and
// releases the pages V8 keeps pooled. A server that wrote a bulk load keeps
// a young generation grown to 2 x --max-semi-space-size (up to 64 MB, about
// half of it resident) through any number of plain full collections.
#include <v8.h>

#include "heap_reduce.h"

extern "C" int reduce_heap(void) {
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return 0;
  isolate->LowMemoryNotification();
  return 1;
}
