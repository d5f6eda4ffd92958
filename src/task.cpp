#include "tasklets/task.hpp"

#include "scheduler.hpp"
#include "sleep.hpp"

namespace tasklets::detail {

bool TaskBase::claim(TaskStatus to, std::uint32_t bits) noexcept {
  std::uint32_t cur = state.load(std::memory_order_relaxed);
  while ((cur & kStatusMask) == static_cast<std::uint32_t>(TaskStatus::queued)) {
    const std::uint32_t next = (cur & ~kStatusMask) | static_cast<std::uint32_t>(to) | bits;
    // acq_rel: the winner sees the submitter's writes to the task (they were
    // released by the queue) and orders its own writes before later readers.
    if (state.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

bool TaskBase::claim_waiting(TaskStatus to) noexcept {
  std::uint32_t cur = state.load(std::memory_order_relaxed);
  while ((cur & kStatusMask) == static_cast<std::uint32_t>(TaskStatus::waiting)) {
    const std::uint32_t next = (cur & ~kStatusMask) | static_cast<std::uint32_t>(to);
    if (state.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

std::uint32_t TaskBase::publish(TaskStatus final_status) noexcept {
  // release: the result (or error) is written before the status a waiter acquires.
  const std::uint32_t old = state.exchange(static_cast<std::uint32_t>(final_status),
                                           std::memory_order_acq_rel);
  if (old & kWaiterBit) futex_wake(state, INT32_MAX);
  return old;
}

bool TaskBase::wait_until_ns(std::int64_t deadline_ns) const noexcept {
  owner->wait(*this, deadline_ns);
  return is_settled(status());
}

void TaskBase::wait() const noexcept { owner->wait(*this, -1); }

void release(TaskBase& t) noexcept { t.owner->release(t); }

bool cancel_task(TaskBase& t) noexcept { return t.owner->cancel(t); }

bool interrupt_task(TaskBase& t, TaskStatus why) noexcept { return t.owner->interrupt(t, why); }

}  // namespace tasklets::detail
