// Clang thread-safety analysis (-Wthread-safety, on in clang builds): the
// attribute macros (as LevelDB's port/thread_annotations.h) and a Mutex /
// MutexLock pair it understands (libstdc++'s std::mutex is not annotated).
// Other compilers see plain std::mutex.
#pragma once

#include <mutex>

#if defined(__clang__)
#define GSOC_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define GSOC_THREAD_ANNOTATION(x)
#endif

#define GSOC_CAPABILITY(x) GSOC_THREAD_ANNOTATION(capability(x))
#define GSOC_SCOPED_CAPABILITY GSOC_THREAD_ANNOTATION(scoped_lockable)
#define GSOC_GUARDED_BY(x) GSOC_THREAD_ANNOTATION(guarded_by(x))
#define GSOC_REQUIRES(...) GSOC_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define GSOC_EXCLUDES(...) GSOC_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define GSOC_ACQUIRE(...) GSOC_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define GSOC_RELEASE(...) GSOC_THREAD_ANNOTATION(release_capability(__VA_ARGS__))

namespace gsoc {

class GSOC_CAPABILITY("mutex") Mutex {
 public:
  void lock() GSOC_ACQUIRE() { mutex_.lock(); }
  void unlock() GSOC_RELEASE() { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

// Holds `mutex` for its scope; also a BasicLockable for
// std::condition_variable_any (which unlocks and relocks it while waiting).
class GSOC_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) GSOC_ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() GSOC_RELEASE() { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  void lock() GSOC_ACQUIRE() { mutex_.lock(); }
  void unlock() GSOC_RELEASE() { mutex_.unlock(); }

 private:
  Mutex& mutex_;
};

}  // namespace gsoc
