#include <gtest/gtest.h>

#include "tasklets/config.hpp"
#include "tasklets/error.hpp"
#include "tasklets/topology.hpp"

using namespace tasklets;

namespace {

Topology four_pus() { return Topology::synthetic("numa:1 core:4 pu:1"); }

Errc code_of(const PoolConfig& c, const Topology& t) {
  try {
    resolve_config(c, t);
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no error thrown";
  return Errc::system;
}

}  // namespace

TEST(Config, AutoIsOneWorkerPerAllowedPu) {
  const auto r = resolve_config(PoolConfig{}, four_pus());
  EXPECT_EQ(r.max_workers, 4u);
  EXPECT_EQ(r.min_workers, 4u);
  EXPECT_EQ(r.scaling, Scaling::fixed);
}

TEST(Config, FixedWithOnlyMinUsesThatCount) {
  PoolConfig c;
  c.workers.min = 3;
  const auto r = resolve_config(c, four_pus());
  EXPECT_EQ(r.min_workers, 3u);
  EXPECT_EQ(r.max_workers, 3u);
}

TEST(Config, AdaptiveDefaultsToOneUpToAuto) {
  PoolConfig c;
  c.workers.scaling = Scaling::adaptive;
  const auto r = resolve_config(c, four_pus());
  EXPECT_EQ(r.min_workers, 1u);
  EXPECT_EQ(r.max_workers, 4u);
}

TEST(Config, AdaptiveRangeKeepsBounds) {
  PoolConfig c;
  c.workers = {.min = 2, .max = 16, .scaling = Scaling::adaptive};
  const auto r = resolve_config(c, four_pus());
  EXPECT_EQ(r.min_workers, 2u);
  EXPECT_EQ(r.max_workers, 16u);
}

TEST(Config, ZeroOrNegativeCountsAreRejected) {
  for (int bad : {0, -1, -100}) {
    PoolConfig c;
    c.workers.min = bad;
    EXPECT_EQ(code_of(c, four_pus()), Errc::invalid_argument) << bad;
    PoolConfig d;
    d.workers.max = bad;
    EXPECT_EQ(code_of(d, four_pus()), Errc::invalid_argument) << bad;
  }
}

TEST(Config, MinAboveMaxIsRejectedWithBothValuesInTheMessage) {
  PoolConfig c;
  c.workers = {.min = 5, .max = 2, .scaling = Scaling::adaptive};
  try {
    resolve_config(c, four_pus());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("workers.min (5)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("workers.max (2)"), std::string::npos) << e.what();
  }
}

TEST(Config, FixedRangeIsRejected) {
  PoolConfig c;
  c.workers = {.min = 1, .max = 3, .scaling = Scaling::fixed};
  EXPECT_EQ(code_of(c, four_pus()), Errc::invalid_argument);
}

TEST(Config, BadKnobsAreRejected) {
  PoolConfig c;
  c.workers.tick = std::chrono::microseconds(0);
  EXPECT_EQ(code_of(c, four_pus()), Errc::invalid_argument);
  PoolConfig d;
  d.workers.idle_timeout = std::chrono::milliseconds(-1);
  EXPECT_EQ(code_of(d, four_pus()), Errc::invalid_argument);
  PoolConfig e;
  e.workers.backlog_per_worker = 0;
  EXPECT_EQ(code_of(e, four_pus()), Errc::invalid_argument);
  PoolConfig f;
  f.workers.max = 5000;
  EXPECT_EQ(code_of(f, four_pus()), Errc::invalid_argument);
}

TEST(Config, ScalingNamesParseAndUnknownOnesThrow) {
  EXPECT_EQ(parse_scaling("fixed"), Scaling::fixed);
  EXPECT_EQ(parse_scaling("adaptive"), Scaling::adaptive);
  EXPECT_EQ(scaling_name(Scaling::adaptive), "adaptive");
  try {
    parse_scaling("elastic");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("elastic"), std::string::npos);
  }
}

TEST(Config, ErrcNamesAreStable) {
  EXPECT_EQ(errc_name(Errc::invalid_argument), "invalid_argument");
  EXPECT_EQ(errc_name(Errc::shutdown), "shutdown");
  EXPECT_EQ(errc_name(Errc::timed_out), "timed_out");
}
