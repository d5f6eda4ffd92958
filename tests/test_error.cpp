// Errors keep what they carry across the runtime: a task's exception its
// type through Handle::get(), a tasklets::Error its code and (when recorded)
// the native stack where it was raised; a broken invariant prints that stack.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <string>

#include "support.hpp"
#include "tasklets/backtrace.hpp"
#include "tasklets/error.hpp"
#include "tasklets/pool.hpp"

using namespace tasklets;
using tasklets::test_support::fixed_pool;
using tasklets::test_support::thrown_error;

namespace {

struct NotAStdException {
  int payload;
};

class CustomError : public std::runtime_error {
 public:
  CustomError(const std::string& what, int detail) : std::runtime_error(what), detail(detail) {}
  int detail;
};

// Turns trace recording on for one test and back off after it.
class RecordedTraces : public ::testing::Test {
 protected:
  void SetUp() override { record_error_traces(true); }
  void TearDown() override { record_error_traces(false); }
};

__attribute__((noinline)) Backtrace capture_here() {
  Backtrace bt = Backtrace::capture();
  asm volatile("" ::: "memory");  // keeps this a frame of its own, not a tail call
  return bt;
}

}  // namespace

TEST(TaskExceptions, KeepTheirTypeThroughGet) {
  Pool pool(fixed_pool(2));
  auto custom = pool.submit([]() -> int { throw CustomError("custom", 7); });
  auto range = pool.submit([] { return std::string("ab").at(5); });
  auto foreign = pool.submit([]() -> int { throw NotAStdException{42}; });
  auto runtime = pool.submit([] { parse_scaling("sideways"); });

  try {
    custom.get();
    ADD_FAILURE() << "no exception";
  } catch (const CustomError& e) {
    EXPECT_STREQ(e.what(), "custom");
    EXPECT_EQ(e.detail, 7);
  }
  EXPECT_THROW(range.get(), std::out_of_range);
  try {
    foreign.get();
    ADD_FAILURE() << "no exception";
  } catch (const NotAStdException& e) {
    EXPECT_EQ(e.payload, 42);
  }
  const Error e = thrown_error([&] { runtime.get(); });
  EXPECT_EQ(e.code(), Errc::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("sideways"), std::string::npos);
}

TEST(ErrorTraces, AreNotRecordedByDefault) {
  ASSERT_FALSE(recording_error_traces());
  const Error e = thrown_error([] { parse_scaling("sideways"); });
  EXPECT_EQ(e.trace(), nullptr);
}

TEST(Backtraces, NameTheFunctionsOnTheStack) {
  const Backtrace bt = capture_here();
  ASSERT_GT(bt.size(), 2u);
  const std::string text = bt.to_string();
  // Innermost first: the function that captured, then its caller (this test).
  EXPECT_EQ(text.rfind("#0 (anonymous namespace)::capture_here()+0x", 0), 0u) << text;
  EXPECT_NE(text.find("#1 Backtraces_NameTheFunctionsOnTheStack_Test::TestBody()+0x"), std::string::npos) << text;
  EXPECT_NE(text.find("(/proc/self/exe+0x"), std::string::npos) << text;
}

TEST_F(RecordedTraces, RuntimeErrorsCarryWhereTheyWereRaised) {
  const Error e = thrown_error([] { parse_scaling("sideways"); });
  ASSERT_NE(e.trace(), nullptr);
  const std::string text = e.trace()->to_string();
  const auto raiser = text.find("tasklets::parse_scaling(std::basic_string_view");
  const auto test_body = text.find("RecordedTraces_RuntimeErrorsCarryWhereTheyWereRaised_Test::TestBody()");
  ASSERT_NE(raiser, std::string::npos) << text;
  ASSERT_NE(test_body, std::string::npos) << text;
  EXPECT_LT(raiser, test_body) << text;
  // Copies (as the catch above made) share the one trace.
  const Error copy = e;
  EXPECT_EQ(copy.trace(), e.trace());
}

TEST_F(RecordedTraces, ReachTheCallerThroughATask) {
  Pool pool(fixed_pool(1));
  auto h = pool.submit([] { parse_scaling("sideways"); });
  const Error e = thrown_error([&] { h.get(); });
  ASSERT_NE(e.trace(), nullptr);
  // Raised on the worker thread: its stack, down to the worker's loop.
  const std::string text = e.trace()->to_string();
  const auto raiser = text.find("tasklets::parse_scaling");
  const auto worker = text.find("tasklets::detail::worker_main");
  ASSERT_NE(raiser, std::string::npos) << text;
  ASSERT_NE(worker, std::string::npos) << text;
  EXPECT_LT(raiser, worker) << text;
}

// What recording costs per Error; printed, not asserted (timing on a
// shared machine). ./build/tests/test_error --gtest_filter='*Cost*'
TEST(ErrorTraces, CostIsReported) {
  constexpr int kErrors = 20000;
  auto per_error_ns = [] {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kErrors; ++i) {
      const Error e(Errc::cancelled, "task was cancelled");
      asm volatile("" : : "r"(&e) : "memory");  // keeps the loop from folding away
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / kErrors;
  };
  const double off = per_error_ns();
  record_error_traces(true);
  const double on = per_error_ns();
  const Error sample(Errc::cancelled, "sample");
  record_error_traces(false);
  ASSERT_NE(sample.trace(), nullptr);
  std::printf("Error construction: %.0f ns without a trace, %.0f ns with one (%zu frames)\n", off, on,
              sample.trace()->size());
}

TEST_F(RecordedTraces, CancelledGetCarriesTheGetCall) {
  Pool pool(fixed_pool(1));
  std::atomic<bool> release{false};
  auto blocker = pool.submit([&] { while (!release.load()) std::this_thread::yield(); });
  SubmitOptions after_blocker;
  const auto deps = after(blocker);
  after_blocker.depends_on = deps;
  auto waiting = pool.submit([] { return 1; }, after_blocker);
  ASSERT_TRUE(waiting.cancel());
  release = true;
  blocker.get();
  const Error e = thrown_error([&] { waiting.get(); });
  EXPECT_EQ(e.code(), Errc::cancelled);
  ASSERT_NE(e.trace(), nullptr);
  EXPECT_NE(e.trace()->to_string().find("CancelledGetCarriesTheGetCall_Test::TestBody"), std::string::npos);
}

TEST(InvariantChecksDeathTest, PrintTheNativeStack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(TASKLETS_ASSERT(1 + 1 == 3),
               "invariant broken: 1 \\+ 1 == 3.*\n#0 .*PrintTheNativeStack_Test::TestBody\\(\\)");
}
