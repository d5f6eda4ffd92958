#include "thread_cpu.hpp"

#include <pthread.h>
#include <time.h>

namespace tasklets::detail {

namespace {

std::uint64_t read_clock(clockid_t id, bool& ok) noexcept {
  timespec ts{};
  ok = clock_gettime(id, &ts) == 0;
  return ok ? std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec) : 0;
}

}  // namespace

std::uint64_t thread_cpu_now_ns() noexcept {
  bool ok;
  return read_clock(CLOCK_THREAD_CPUTIME_ID, ok);
}

void SlotCpuClock::bind_current() noexcept {
  clockid_t id;
  if (pthread_getcpuclockid(pthread_self(), &id) != 0) return;
  clock_.store(id, std::memory_order_release);
}

void SlotCpuClock::unbind_current() noexcept {
  if (clock_.load(std::memory_order_relaxed) == kNone) return;
  retired_ns_.fetch_add(thread_cpu_now_ns(), std::memory_order_relaxed);
  clock_.store(kNone, std::memory_order_release);
}

std::uint64_t SlotCpuClock::read_ns() const noexcept {
  const std::uint64_t retired = retired_ns_.load(std::memory_order_relaxed);
  const std::int64_t id = clock_.load(std::memory_order_acquire);
  if (id == kNone) return retired;
  // The thread may have exited since: its clock then fails to read (EINVAL)
  // and only what it folded into retired_ns_ counts.
  bool ok;
  const std::uint64_t live = read_clock(static_cast<clockid_t>(id), ok);
  return retired + live;
}

}  // namespace tasklets::detail
