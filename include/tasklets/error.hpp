// Error tiers of the runtime (see docs/architecture.md, "Errors"):
//  * caller mistakes throw tasklets::Error with an Errc code;
//  * a task's own exception is stored and delivered with its result;
//  * cancellation and timeout are task statuses, not exceptions, until a
//    caller asks a cancelled handle for its value (then Errc::cancelled /
//    Errc::timed_out / Errc::dependency_failed is thrown);
//  * a broken internal invariant aborts (TASKLETS_ASSERT).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tasklets {

enum class Errc {
  invalid_argument,  // a bad value in a config or a call
  topology,          // a topology that cannot be loaded or parsed
  shutdown,          // submit after shutdown began
  cancelled,         // value asked of a cancelled task
  timed_out,         // value asked of a task that passed its deadline
  allocation,        // the arena or the task pool could not get memory
  system,            // an OS or library call failed
  dependency_failed, // value asked of a task whose dependency did not succeed
};

// Stable, grep-able name of a code ("invalid_argument", ...).
std::string_view errc_name(Errc code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

namespace detail {
[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "tasklets: invariant broken: %s (%s:%d)\n", expr, file, line);
  std::abort();
}
}  // namespace detail

}  // namespace tasklets

// Always on: a broken invariant in a scheduler is never worth continuing past.
#define TASKLETS_ASSERT(expr) \
  ((expr) ? (void)0 : ::tasklets::detail::assert_fail(#expr, __FILE__, __LINE__))
