// This test process's resident memory (/proc/self/statm), for tests that
// bound what a component keeps resident.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <fstream>

namespace gsoc::test {

// Resident set size of this process in bytes (0 if /proc is unreadable).
inline size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace gsoc::test
