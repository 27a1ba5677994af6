#ifndef VIREO_FILE_PAGES_H
#define VIREO_FILE_PAGES_H
#include <stddef.h>

/* Unmap the pages of read-only file mappings without a copy-on-write page; returns the bytes of RSS they held. */
size_t drop_clean_file_pages(void);

#endif
