#include "tasklets/error.hpp"

#include <atomic>
#include <new>

#include "tasklets/backtrace.hpp"

namespace tasklets {

namespace {
std::atomic<bool> g_record_traces{false};
}  // namespace

void record_error_traces(bool on) noexcept { g_record_traces.store(on, std::memory_order_relaxed); }

bool recording_error_traces() noexcept { return g_record_traces.load(std::memory_order_relaxed); }

namespace detail {

// noinline: `skip` counts frames, so this must be one.
__attribute__((noinline)) std::shared_ptr<const Backtrace> trace_if_recording(std::size_t skip) noexcept {
  if (!recording_error_traces()) return nullptr;
  try {
    return std::make_shared<const Backtrace>(Backtrace::capture(skip + 1));
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

void assert_fail(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "tasklets: invariant broken: %s (%s:%d)\n", expr, file, line);
  try {
    std::fputs(Backtrace::capture(1).to_string().c_str(), stderr);
  } catch (...) {
    // No memory to symbolize: the message above is what there is.
  }
  std::abort();
}

}  // namespace detail

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::topology: return "topology";
    case Errc::shutdown: return "shutdown";
    case Errc::cancelled: return "cancelled";
    case Errc::timed_out: return "timed_out";
    case Errc::allocation: return "allocation";
    case Errc::system: return "system";
    case Errc::dependency_failed: return "dependency_failed";
  }
  return "unknown";
}

}  // namespace tasklets
