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
#include <memory>
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

class Backtrace;  // backtrace.hpp

// Whether an Error records the native stack where it is raised (process-wide,
// off by default). Recording costs a stack walk per Error constructed (a few
// microseconds, docs/building.md "Native traces"), which a cancelled task's
// Handle::get() or a submit after shutdown would otherwise not pay; the Node
// addon turns it on.
void record_error_traces(bool on) noexcept;
bool recording_error_traces() noexcept;

namespace detail {
// The current stack without this call's frame and `skip` more, or null when
// traces are not recorded (or memory for one is short).
std::shared_ptr<const Backtrace> trace_if_recording(std::size_t skip) noexcept;
}  // namespace detail

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message)
      : std::runtime_error(message), code_(code), trace_(detail::trace_if_recording(0)) {}
  Errc code() const noexcept { return code_; }
  // Where it was raised, null unless record_error_traces(true) was in force
  // then. Copies of the error share it.
  const std::shared_ptr<const Backtrace>& trace() const noexcept { return trace_; }

 private:
  Errc code_;
  std::shared_ptr<const Backtrace> trace_;
};

namespace detail {
// Prints the broken invariant and the native stack to stderr, then aborts.
[[noreturn]] void assert_fail(const char* expr, const char* file, int line) noexcept;
}  // namespace detail

}  // namespace tasklets

// Always on: a broken invariant in a scheduler is never worth continuing past.
#define TASKLETS_ASSERT(expr) \
  ((expr) ? (void)0 : ::tasklets::detail::assert_fail(#expr, __FILE__, __LINE__))
