// glibc's allocator, set for reloads. A reload of a 10,000-service configuration allocates tens
// of MB (the new configuration; tokens too for the blocks it parses) and frees as much after. By
// default glibc serves blocks that large with fresh mmaps and gives them back at once, so each
// reload faults every page in again. Kept in the heap, the next reload reuses the pages; the
// price is that lvsd's resident size keeps the largest reload's peak.
// One arena for all threads: a reload runs on the control thread (SIGHUP) or on the API's
// (POST /v1/reload), and with an arena per thread each would keep its own peak and fault its own
// pages in. Workers do not allocate per packet, so they do not contend for it.
#pragma once

#include <malloc.h>

namespace lvs::daemon {

inline void keep_reload_memory() {
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_ARENA_MAX, 1);
}

}  // namespace lvs::daemon
