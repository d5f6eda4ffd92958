#include "tasklets/error.hpp"

namespace tasklets {

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
