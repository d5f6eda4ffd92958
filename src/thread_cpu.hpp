// CPU time of the threads that serve a worker slot, readable from any thread.
//
// Reading a thread's CPU clock costs a system call (CLOCK_THREAD_CPUTIME_ID is
// not in the vDSO: about 1.2 us on the reference VM, more than a no-op task),
// so nothing on the per-task path reads it unless the pool asked for per-task
// CPU time. Instead the serving thread publishes its clock id once when it
// starts, and a stats reader reads that clock (pthread_getcpuclockid): zero
// cost per task, exact at the moment of the read.
//
// Threads come and go on a slot (scaling, replacement); each leaving thread
// folds its own total into `retired_` before it withdraws its clock, so the
// slot's figure only grows, except that a reader racing the hand-over may see
// the retired total before the clock is withdrawn and count the leaving
// thread twice for that one read.
#pragma once

#include <atomic>
#include <cstdint>

namespace tasklets::detail {

// CPU time of the calling thread, in nanoseconds.
std::uint64_t thread_cpu_now_ns() noexcept;

class SlotCpuClock {
 public:
  // On the thread that starts serving the slot.
  void bind_current() noexcept;
  // On the same thread, before it leaves the slot.
  void unbind_current() noexcept;
  // From any thread: CPU time of every thread that served the slot so far.
  std::uint64_t read_ns() const noexcept;

 private:
  static constexpr std::int64_t kNone = INT64_MIN;
  std::atomic<std::int64_t> clock_{kNone};   // a clockid_t, or kNone
  std::atomic<std::uint64_t> retired_ns_{0};
};

}  // namespace tasklets::detail
