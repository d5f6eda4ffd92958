#include "sleep.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <climits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tasklets::detail {

void futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::int64_t timeout_ns) noexcept {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    tsp = &ts;
  }
  // EAGAIN (the word changed), EINTR and ETIMEDOUT all mean "look again":
  // every caller loops on the word, never on the return value.
  syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
          tsp, nullptr, 0);
}

void futex_wake(const std::atomic<std::uint32_t>& word, int count) noexcept {
  syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count,
          nullptr, nullptr, 0);
}

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

namespace {
// The CPU the calling thread runs on (glibc reads it from rseq or the vDSO:
// no system call), or -1.
int current_cpu(unsigned cpus) noexcept {
  const int cpu = sched_getcpu();
  return cpu >= 0 && static_cast<unsigned>(cpu) < cpus ? cpu : -1;
}
}  // namespace

SleepCoordinator::SleepCoordinator() {
  const long n = sysconf(_SC_NPROCESSORS_CONF);
  cpus_ = n > 0 ? static_cast<unsigned>(n) : 0;
  parked_on_ = std::make_unique<std::atomic<Parker*>[]>(cpus_);
  for (unsigned i = 0; i < cpus_; ++i) parked_on_[i].store(nullptr, std::memory_order_relaxed);
}

Parker* SleepCoordinator::parked_on_this_cpu() const noexcept {
  const int cpu = current_cpu(cpus_);
  return cpu < 0 ? nullptr : parked_on_[cpu].load(std::memory_order_relaxed);
}

void SleepCoordinator::prepare(Parker& p) noexcept {
  if (const int cpu = current_cpu(cpus_); cpu >= 0) parked_on_[cpu].store(&p, std::memory_order_relaxed);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  p.state.store(Parker::kSleeping, std::memory_order_seq_cst);
  // The worker-side fence of the protocol: orders the SLEEPING store before
  // the caller's re-check of the queue counts.
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

bool SleepCoordinator::cancel(Parker& p) noexcept {
  std::uint32_t expected = Parker::kSleeping;
  if (p.state.compare_exchange_strong(expected, Parker::kAwake, std::memory_order_acq_rel)) {
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }
  // A waker moved us to NOTIFIED and already decremented sleepers.
  p.state.store(Parker::kAwake, std::memory_order_relaxed);
  return false;
}

void SleepCoordinator::sleep(Parker& p) noexcept {
  while (p.state.load(std::memory_order_acquire) == Parker::kSleeping) {
    futex_wait(p.state, Parker::kSleeping);
  }
  p.state.store(Parker::kAwake, std::memory_order_relaxed);
}

bool SleepCoordinator::wake(Parker& p) noexcept {
  std::uint32_t expected = Parker::kSleeping;
  if (!p.state.compare_exchange_strong(expected, Parker::kNotified, std::memory_order_acq_rel)) {
    return false;
  }
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  if (NotifyFn notify = p.notify.load(std::memory_order_acquire)) {
    notify(p.notify_context.load(std::memory_order_acquire));
  } else {
    futex_wake(p.state, 1);
  }
  return true;
}

}  // namespace tasklets::detail
