// Cache prefetches for the packet path (and the relay benchmark's generator): a line about to be
// written, and the lines of a range about to be read.
#pragma once

#include <rte_common.h>
#include <rte_prefetch.h>

#include <cstddef>
#include <cstdint>

namespace t38relay::dataplane {

// Requests a line this core is about to write, in a state it can write in (PREFETCHW): a line
// another core wrote (a received frame, its mbuf) read first and written after would cross twice.
// PREFETCHW is a no-op on x86-64 CPUs without it; elsewhere the compiler's write prefetch.
inline void PrefetchForWrite(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1, 3);
#endif
}

// Requests every cache line [start, start + bytes) touches, for reading.
inline void PrefetchLines(const void* start, size_t bytes) {
  const uintptr_t end = reinterpret_cast<uintptr_t>(start) + bytes;
  for (uintptr_t line = reinterpret_cast<uintptr_t>(start) & ~uintptr_t{RTE_CACHE_LINE_SIZE - 1};
       line < end; line += RTE_CACHE_LINE_SIZE) {
    rte_prefetch0(reinterpret_cast<const void*>(line));
  }
}

}  // namespace t38relay::dataplane
