// Parking and waking workers. The protocol, its states and why each fence is
// there are written down in docs/architecture.md ("Sleep and wake"); change
// the two together.
//
// States of one worker's Parker:  AWAKE --prepare--> SLEEPING --wake--> NOTIFIED --(worker)--> AWAKE
//                                           SLEEPING --cancel--> AWAKE
// Counters: `sleepers` = number of Parkers in SLEEPING. Exactly one thread
// moves a Parker out of SLEEPING (a CAS), and that thread decrements
// `sleepers`, so the count never goes negative and never leaks.
//
// No lost wakeup (the invariant): a worker parks only if, after publishing
// SLEEPING and a seq_cst fence, it still sees every queue count at zero. A
// submitter bumps a queue count, enqueues, issues a seq_cst fence, then reads
// `sleepers` and the Parker states. In the single total order of the two
// fences, either the worker's fence comes first (then the submitter sees the
// SLEEPING state and wakes it) or the submitter's does (then the worker sees
// the count and does not sleep).
//
// Which sleeper a submitter wakes is a hint on top of that, never a
// condition of it: each CPU remembers the Parker that last parked on it
// (`parked_on`, relaxed, possibly stale), and a submitter from outside the
// pool tries that one first. The hint only adds a wake attempt before the
// usual ones; a stale hint fails its CAS (the Parker is not SLEEPING) or
// wakes a worker that finds the task by stealing.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace tasklets::detail {

// Linux futex on a 32-bit atomic. timeout_ns < 0 waits forever.
void futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::int64_t timeout_ns = -1) noexcept;
void futex_wake(const std::atomic<std::uint32_t>& word, int count) noexcept;
std::int64_t now_ns() noexcept;  // steady clock
void cpu_relax() noexcept;

using NotifyFn = void (*)(void* context) noexcept;

class alignas(64) Parker {
 public:
  static constexpr std::uint32_t kAwake = 0;
  static constexpr std::uint32_t kSleeping = 1;
  static constexpr std::uint32_t kNotified = 2;
  std::atomic<std::uint32_t> state{kAwake};
  // A worker driven by a foreign event loop (a Node Worker) does not block
  // in futex_wait: it returns to its loop, and a waker calls notify instead
  // of futex_wake. Set before the worker first parks; `context` must stay
  // valid for the pool's lifetime (a late waker may still call it).
  std::atomic<NotifyFn> notify{nullptr};
  std::atomic<void*> notify_context{nullptr};
};

class alignas(64) SleepCoordinator {
 public:
  SleepCoordinator();

  // Worker side. prepare() publishes SLEEPING and fences; the caller then
  // re-checks for work and calls either cancel() or sleep().
  void prepare(Parker& p) noexcept;
  // Returns true if the worker took itself out of SLEEPING, false if a waker
  // got there first (the wake was spent on a worker that had work anyway).
  bool cancel(Parker& p) noexcept;
  void sleep(Parker& p) noexcept;  // returns once woken

  // Waker side. True if this call moved p from SLEEPING to NOTIFIED.
  bool wake(Parker& p) noexcept;
  int sleepers() const noexcept { return sleepers_.load(std::memory_order_relaxed); }
  // The Parker that last parked on the calling thread's CPU, or null. It
  // may be awake by now: pass it to wake(), which decides.
  Parker* parked_on_this_cpu() const noexcept;

 private:
  std::atomic<int> sleepers_{0};
  unsigned cpus_ = 0;
  std::unique_ptr<std::atomic<Parker*>[]> parked_on_;  // indexed by OS CPU number
};

}  // namespace tasklets::detail
