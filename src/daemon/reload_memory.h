// glibc's allocator, set for reloads. A 10,000-service configuration is read into about 80 MB of
// tokens and settings at every reload and freed after. By default glibc serves blocks that large
// with fresh mmaps and gives them back at once, so each reload faults every page in again (a
// quarter of the reading time). Kept in the heap, the next reload reuses the pages; the price is
// that lvsd's resident size keeps the largest reload's peak.
#pragma once

#include <malloc.h>

namespace lvs::daemon {

inline void keep_reload_memory() {
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

}  // namespace lvs::daemon
