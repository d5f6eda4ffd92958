// The scaling policy is a pure function: these tests drive it tick by tick.
#include <gtest/gtest.h>

#include "tasklets/scaler.hpp"

using namespace tasklets;

namespace {

constexpr std::int64_t kMs = 1'000'000;

WorkersConfig knobs() {
  WorkersConfig k;
  k.idle_timeout = std::chrono::milliseconds(100);
  k.tick = std::chrono::microseconds(1000);
  k.backlog_per_worker = 2;
  k.wait_threshold = std::chrono::microseconds(500);
  k.grow_after_ticks = 2;
  return k;
}

ScalerInput input(unsigned active, std::uint64_t backlog, unsigned sleeping, std::int64_t now) {
  ScalerInput in;
  in.active = active;
  in.min = 1;
  in.max = 4;
  in.backlog = backlog;
  in.sleeping = sleeping;
  in.now_ns = now;
  return in;
}

}  // namespace

TEST(Scaler, GrowsOnlyAfterSustainedBacklog) {
  ScalerState s;
  EXPECT_EQ(decide_scaling(knobs(), input(1, 10, 0, 1 * kMs), s), ScaleAction::none);
  EXPECT_EQ(decide_scaling(knobs(), input(1, 10, 0, 2 * kMs), s), ScaleAction::grow);
  // The counter restarts after a step.
  EXPECT_EQ(decide_scaling(knobs(), input(2, 10, 0, 3 * kMs), s), ScaleAction::none);
}

TEST(Scaler, AShallowBacklogDoesNotGrow) {
  ScalerState s;
  for (int i = 1; i < 20; ++i) {
    EXPECT_EQ(decide_scaling(knobs(), input(2, 4, 0, i * kMs), s), ScaleAction::none);
  }
}

TEST(Scaler, LongQueueWaitGrowsEvenWithShallowBacklog) {
  ScalerState s;
  auto in = input(2, 1, 0, 1 * kMs);
  in.max_wait_ns = 2 * kMs;
  EXPECT_EQ(decide_scaling(knobs(), in, s), ScaleAction::none);
  in.now_ns = 2 * kMs;
  EXPECT_EQ(decide_scaling(knobs(), in, s), ScaleAction::grow);
}

TEST(Scaler, NoGrowthWhileAWorkerSleeps) {
  ScalerState s;
  for (int i = 1; i < 10; ++i) {
    EXPECT_EQ(decide_scaling(knobs(), input(2, 100, 1, i * kMs), s), ScaleAction::none);
  }
}

TEST(Scaler, NeverAboveMax) {
  ScalerState s;
  for (int i = 1; i < 10; ++i) {
    EXPECT_EQ(decide_scaling(knobs(), input(4, 1000, 0, i * kMs), s), ScaleAction::none);
  }
}

TEST(Scaler, ShrinksAfterIdleTimeoutOneStepPerTimeout) {
  ScalerState s;
  s.last_change_ns = 0;
  EXPECT_EQ(decide_scaling(knobs(), input(3, 0, 2, 10 * kMs), s), ScaleAction::none);
  EXPECT_EQ(decide_scaling(knobs(), input(3, 0, 2, 60 * kMs), s), ScaleAction::none);
  EXPECT_EQ(decide_scaling(knobs(), input(3, 0, 2, 110 * kMs), s), ScaleAction::shrink);
  // Hysteresis: the next step waits a whole idle_timeout after the change.
  EXPECT_EQ(decide_scaling(knobs(), input(2, 0, 1, 150 * kMs), s), ScaleAction::none);
  EXPECT_EQ(decide_scaling(knobs(), input(2, 0, 1, 211 * kMs), s), ScaleAction::shrink);
  // Never below min.
  EXPECT_EQ(decide_scaling(knobs(), input(1, 0, 1, 900 * kMs), s), ScaleAction::none);
}

TEST(Scaler, BusyTickResetsTheIdleClock) {
  ScalerState s;
  EXPECT_EQ(decide_scaling(knobs(), input(3, 0, 2, 10 * kMs), s), ScaleAction::none);
  EXPECT_EQ(decide_scaling(knobs(), input(3, 1, 0, 80 * kMs), s), ScaleAction::none);  // busy
  EXPECT_EQ(decide_scaling(knobs(), input(3, 0, 2, 120 * kMs), s), ScaleAction::none);
  EXPECT_EQ(decide_scaling(knobs(), input(3, 0, 2, 221 * kMs), s), ScaleAction::shrink);
}

TEST(Scaler, GrowsBackToMinFirst) {
  ScalerState s;
  auto in = input(0, 0, 0, 1 * kMs);
  in.min = 2;
  EXPECT_EQ(decide_scaling(knobs(), in, s), ScaleAction::grow);
}

TEST(Scaler, AlternatingLoadDoesNotFlap) {
  // Load that flips every tick never satisfies either side's persistence.
  ScalerState s;
  int changes = 0;
  for (int i = 1; i < 200; ++i) {
    const bool busy = i % 2 == 0;
    auto a = decide_scaling(knobs(), input(2, busy ? 50 : 0, busy ? 0 : 1, i * kMs), s);
    if (a != ScaleAction::none) ++changes;
  }
  EXPECT_EQ(changes, 0);
}
