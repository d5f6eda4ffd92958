// What several GoogleTest programs share: a size scale for sanitizer builds,
// a fixed pool configuration, waiting for a condition with a deadline
// (tests wait for what they assert, never for a fixed time), and catching
// the tasklets::Error a call must throw.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tasklets/config.hpp"
#include "tasklets/error.hpp"

namespace tasklets::test_support {

// Sanitizer builds run 5-20x slower: stress tests use 1/kScale of the work.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr int kScale = 10;
#else
inline constexpr int kScale = 1;
#endif

inline PoolConfig fixed_pool(int n, Placement placement = Placement::none) {
  PoolConfig c;
  c.workers.min = n;
  c.workers.max = n;
  c.placement = placement;
  return c;
}

// True once pred() holds, false if it still does not after `limit`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

// The tasklets::Error fn() throws; a test failure if it throws none.
template <class Fn>
Error thrown_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no tasklets::Error thrown";
  return Error(Errc::system, "none");
}

template <class Fn>
Errc error_code_of(Fn&& fn) {
  return thrown_error(fn).code();
}

}  // namespace tasklets::test_support
