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
#pragma once

#include <atomic>
#include <cstdint>

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

 private:
  std::atomic<int> sleepers_{0};
};

}  // namespace tasklets::detail
