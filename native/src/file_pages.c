/*
 * Unmapping the executable's and libraries' file pages the process no
 * longer touches. The node binary is ~95 MB; starting it faults in ~40 MB
 * of its text and read-only data (libuv's and V8's startup, ICU, the
 * bootstrap snapshot, each fault mapping 64 KB around it), most of which a
 * running server never reads again but which stays in its RSS: about as
 * much as the string store of 500k keys. Redis' binary is a few MB.
 *
 * For a mapping that cannot be written (no 'w') and holds no anonymous
 * (copy-on-write) page, MADV_DONTNEED only drops the page-table entries:
 * the pages stay in the page cache and the next touch maps them again (a
 * minor fault), with the same bytes. Mappings with an anonymous page (a
 * relocated RELRO page, a written .data page) are left alone: there the
 * call would bring back the file's bytes. smaps is read, not maps, for
 * that Anonymous count.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>

#include "file_pages.h"

typedef struct {
  uintptr_t start, end;
  int candidate; /* read-only, file-backed */
  long rss_kb, anon_kb;
} Mapping;

static size_t drop_if_clean(const Mapping *m) {
  if (!m->candidate || m->rss_kb <= 0 || m->anon_kb != 0) return 0;
  if (madvise((void *)m->start, m->end - m->start, MADV_DONTNEED) != 0) return 0;
  return (size_t)m->rss_kb * 1024;
}

/* "start-end perms offset dev inode   path": a mapping's header line in smaps. */
static int parse_header(const char *line, Mapping *m) {
  unsigned long start, end;
  char perms[8];
  int path_at = 0;
  if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3) return 0;
  m->start = start;
  m->end = end;
  m->rss_kb = -1;
  m->anon_kb = -1;
  m->candidate = strlen(perms) >= 4 && perms[0] == 'r' && perms[1] != 'w' && path_at > 0 && line[path_at] == '/';
  return 1;
}

size_t drop_clean_file_pages(void) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (f == NULL) return 0;
  char *line = NULL;
  size_t cap = 0, dropped = 0;
  Mapping m = {0};
  int have = 0;
  while (getline(&line, &cap, f) > 0) {
    long kb;
    if (sscanf(line, "Rss: %ld kB", &kb) == 1) m.rss_kb = kb;
    else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1) m.anon_kb = kb;
    else if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) {
      Mapping next;
      if (!parse_header(line, &next)) continue;
      if (have) dropped += drop_if_clean(&m);
      m = next;
      have = 1;
    }
  }
  if (have) dropped += drop_if_clean(&m);
  free(line);
  fclose(f);
  return dropped;
}
