#include "tasklets/scaler.hpp"

#include <chrono>

namespace tasklets {

namespace {

bool work_waits(const WorkersConfig& k, const ScalerInput& in) noexcept {
  if (in.backlog == 0) return false;
  const auto wait_limit = std::chrono::duration_cast<std::chrono::nanoseconds>(k.wait_threshold).count();
  const bool deep = in.backlog > std::uint64_t{in.active} * k.backlog_per_worker;
  const bool slow = in.max_wait_ns > static_cast<std::uint64_t>(wait_limit);
  return deep || slow;
}

}  // namespace

ScaleAction decide_scaling(const WorkersConfig& k, const ScalerInput& in, ScalerState& s) noexcept {
  if (in.active < in.min) {
    s.last_change_ns = in.now_ns;
    return ScaleAction::grow;  // below the floor (start-up or a lost worker)
  }
  const bool waiting = work_waits(k, in) && in.sleeping == 0;
  s.waiting_ticks = waiting ? s.waiting_ticks + 1 : 0;
  if (s.waiting_ticks >= k.grow_after_ticks && in.active < in.max) {
    s.waiting_ticks = 0;
    s.idle_since_ns = -1;
    s.last_change_ns = in.now_ns;
    return ScaleAction::grow;
  }
  const bool idle = in.sleeping > 0 && in.backlog == 0;
  if (!idle) {
    s.idle_since_ns = -1;
    return ScaleAction::none;
  }
  if (s.idle_since_ns < 0) s.idle_since_ns = in.now_ns;
  const auto timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(k.idle_timeout).count();
  const std::int64_t since = s.idle_since_ns > s.last_change_ns ? s.idle_since_ns : s.last_change_ns;
  if (in.active > in.min && in.now_ns - since >= timeout) {
    s.last_change_ns = in.now_ns;
    return ScaleAction::shrink;
  }
  return ScaleAction::none;
}

}  // namespace tasklets
