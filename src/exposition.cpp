#include "tasklets/exposition.hpp"

#include <charconv>
#include <string>

#include "tasklets/error.hpp"

namespace tasklets {

ExpositionBuckets exposition_buckets(const HistogramSnapshot& h) noexcept {
  ExpositionBuckets out;
  unsigned bound = 0;
  std::uint64_t seen = 0;
  for (unsigned b = 0; b < LatencyHistogram::kBucketCount; ++b) {
    // Bounds passed before this bucket's largest value fits under one.
    while (bound < kExpositionBoundsNs.size() && LatencyHistogram::bucket_upper(b) > kExpositionBoundsNs[bound]) {
      out.cumulative[bound++] = seen;
    }
    seen += h.counts[b];
  }
  while (bound < kExpositionBoundsNs.size()) out.cumulative[bound++] = seen;
  out.count = seen;
  out.sum_ns = h.sum_ns;
  return out;
}

namespace {

bool valid_label_name(const std::string& n) noexcept {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string seconds(std::uint64_t ns) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, double(ns) / 1e9);
  return std::string(buf, r.ptr);
}

// Writes one family; every sample carries the common labels first.
class Writer {
 public:
  Writer(std::ostream& out, const MetricLabels& labels) : out_(out) {
    for (const auto& [name, value] : labels) {
      if (!valid_label_name(name)) throw Error(Errc::invalid_argument, "invalid metric label name: " + name);
      common_ += (common_.empty() ? "" : ",") + name + "=\"" + escape(value) + "\"";
    }
  }

  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }

  template <class V>
  void sample(const std::string& name, const std::string& extra, const V& value) {
    out_ << name;
    if (!common_.empty() || !extra.empty()) {
      out_ << '{' << common_ << (!common_.empty() && !extra.empty() ? "," : "") << extra << '}';
    }
    out_ << ' ' << value << '\n';
  }

  void histogram(const char* name, const char* help, const HistogramSnapshot& h) {
    family(name, "histogram", help);
    const ExpositionBuckets b = exposition_buckets(h);
    const std::string n = name;
    for (std::size_t i = 0; i < b.cumulative.size(); ++i) {
      sample(n + "_bucket", "le=\"" + std::string(kExpositionBoundLabels[i]) + '"', b.cumulative[i]);
    }
    sample(n + "_bucket", "le=\"+Inf\"", b.count);
    sample(n + "_sum", "", seconds(b.sum_ns));
    sample(n + "_count", "", b.count);
  }

 private:
  std::ostream& out_;
  std::string common_;
};

std::string label(const char* name, const std::string& value) { return std::string(name) + "=\"" + value + '"'; }

}  // namespace

void write_prometheus(std::ostream& out, const PoolStats& s, const MetricLabels& labels) {
  Writer w(out, labels);
  w.histogram("tasklets_queue_wait_seconds", "Time tasks waited in a queue, from submission to start.",
              s.queue_wait_histogram);
  w.histogram("tasklets_run_time_seconds", "Time tasks ran, from start to end.", s.run_time_histogram);
  w.histogram("tasklets_task_cpu_seconds", "Thread CPU time per task (recorded when task CPU time is enabled).",
              s.task_cpu_histogram);
  w.family("tasklets_tasks_total", "counter", "Tasks settled by the runtime, by outcome.");
  w.sample("tasklets_tasks_total", label("outcome", "succeeded"), s.executed);
  w.sample("tasklets_tasks_total", label("outcome", "failed"), s.failed);
  w.sample("tasklets_tasks_total", label("outcome", "cancelled"), s.cancelled);
  w.sample("tasklets_tasks_total", label("outcome", "timed_out"), s.timed_out);
  w.sample("tasklets_tasks_total", label("outcome", "dependency_failed"), s.dependency_failed);
  w.family("tasklets_tasks_stolen_total", "counter", "Tasks a worker took from another worker's queue.");
  w.sample("tasklets_tasks_stolen_total", "", s.stolen);
  w.family("tasklets_queued_tasks", "gauge", "Tasks waiting in the queues, by priority.");
  static const char* const kPriorities[] = {"high", "normal", "low"};
  for (std::size_t p = 0; p < s.queued.size(); ++p) w.sample("tasklets_queued_tasks", label("priority", kPriorities[p]), s.queued[p]);
  w.family("tasklets_waiting_tasks", "gauge", "Tasks waiting for their dependencies.");
  w.sample("tasklets_waiting_tasks", "", s.waiting);
  w.family("tasklets_active_workers", "gauge", "Worker slots receiving tasks.");
  w.sample("tasklets_active_workers", "", s.active_workers);
  w.family("tasklets_sleeping_workers", "gauge", "Workers parked, waiting for work.");
  w.sample("tasklets_sleeping_workers", "", s.sleeping_workers);
  w.family("tasklets_scale_events_total", "counter", "Adaptive scaling steps, by direction.");
  w.sample("tasklets_scale_events_total", label("direction", "up"), s.scale_ups);
  w.sample("tasklets_scale_events_total", label("direction", "down"), s.scale_downs);
  w.family("tasklets_replaced_workers_total", "counter", "Workers started again because the thread serving a slot died.");
  w.sample("tasklets_replaced_workers_total", "", s.replaced_workers);
  w.family("tasklets_worker_tasks_total", "counter", "Tasks a worker ran, by worker slot.");
  for (const auto& ws : s.workers) w.sample("tasklets_worker_tasks_total", label("worker", std::to_string(ws.id)), ws.counters.executed + ws.counters.failed);
  w.family("tasklets_worker_busy_seconds_total", "counter", "Sum of the run times of a worker's tasks.");
  for (const auto& ws : s.workers) w.sample("tasklets_worker_busy_seconds_total", label("worker", std::to_string(ws.id)), seconds(ws.busy_ns));
  w.family("tasklets_worker_cpu_seconds_total", "counter", "CPU time of the threads that served a worker slot.");
  for (const auto& ws : s.workers) w.sample("tasklets_worker_cpu_seconds_total", label("worker", std::to_string(ws.id)), seconds(ws.cpu_ns));
  w.family("tasklets_arena_resident_bytes", "gauge", "Resident bytes of the jemalloc arena of a NUMA node.");
  for (std::size_t n = 0; n < s.arenas.size(); ++n) w.sample("tasklets_arena_resident_bytes", label("numa", std::to_string(n)), s.arenas[n].resident_bytes);
}

}  // namespace tasklets
