#include "tasklets/config.hpp"

#include "tasklets/error.hpp"
#include "tasklets/topology.hpp"

namespace tasklets {

Scaling parse_scaling(std::string_view name) {
  if (name == "fixed") return Scaling::fixed;
  if (name == "adaptive") return Scaling::adaptive;
  throw Error(Errc::invalid_argument,
              "workers.scaling must be 'fixed' or 'adaptive', got '" + std::string(name) + "'");
}

std::string_view scaling_name(Scaling s) noexcept {
  return s == Scaling::fixed ? "fixed" : "adaptive";
}

namespace {

unsigned positive(const std::optional<int>& v, const char* field, unsigned fallback) {
  if (!v) return fallback;
  if (*v <= 0) {
    throw Error(Errc::invalid_argument,
                std::string(field) + " must be a positive integer, got " + std::to_string(*v));
  }
  return static_cast<unsigned>(*v);
}

void check_knobs(const WorkersConfig& w) {
  if (w.tick.count() <= 0) {
    throw Error(Errc::invalid_argument, "workers.tick must be positive");
  }
  if (w.idle_timeout.count() < 0) {
    throw Error(Errc::invalid_argument, "workers.idle_timeout must not be negative");
  }
  if (w.wait_threshold.count() < 0) {
    throw Error(Errc::invalid_argument, "workers.wait_threshold must not be negative");
  }
  if (w.backlog_per_worker == 0 || w.grow_after_ticks == 0) {
    throw Error(Errc::invalid_argument,
                "workers.backlog_per_worker and workers.grow_after_ticks must be at least 1");
  }
}

}  // namespace

ResolvedConfig resolve_config(const PoolConfig& config, const Topology& topology) {
  const WorkersConfig& w = config.workers;
  const auto allowed = static_cast<unsigned>(topology.pus().size());
  unsigned max_fallback = allowed == 0 ? 1 : allowed;
  // A fixed pool given only a min has exactly that many workers.
  if (w.scaling == Scaling::fixed && w.min && !w.max && *w.min > 0) {
    max_fallback = static_cast<unsigned>(*w.min);
  }
  const unsigned max = positive(w.max, "workers.max", max_fallback);
  const unsigned min_fallback = w.scaling == Scaling::fixed ? max : 1;
  const unsigned min = positive(w.min, "workers.min", min_fallback > max ? max : min_fallback);
  if (min > max) {
    throw Error(Errc::invalid_argument, "workers.min (" + std::to_string(min) +
                                            ") must not exceed workers.max (" +
                                            std::to_string(max) + ")");
  }
  if (w.scaling == Scaling::fixed && w.min && w.max && min != max) {
    throw Error(Errc::invalid_argument,
                "workers.scaling 'fixed' needs workers.min == workers.max; use 'adaptive' for a range");
  }
  check_knobs(w);
  if (max > kMaxWorkers) {
    throw Error(Errc::invalid_argument,
                "workers.max must not exceed " + std::to_string(kMaxWorkers));
  }
  if (config.worker_slots != 0 && (config.worker_slots < max || config.worker_slots > kMaxWorkers)) {
    throw Error(Errc::invalid_argument, "worker_slots (" + std::to_string(config.worker_slots) +
                                            ") must be 0 or between workers.max (" + std::to_string(max) +
                                            ") and " + std::to_string(kMaxWorkers));
  }
  const unsigned fixed_min = w.scaling == Scaling::fixed ? max : min;
  return ResolvedConfig{fixed_min, max, w.scaling, w, config.placement,
                        config.spin_rounds, config.yield_rounds, config.latency_metrics,
                        config.task_cpu_time,
                        config.worker_slots != 0 ? config.worker_slots : max};
}

}  // namespace tasklets
