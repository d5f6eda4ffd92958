// Slow side of the metrics: snapshots and the arithmetic on them. The
// recording paths are inline in metrics.hpp; see its header comment for why
// every access here is relaxed.
#include "tasklets/metrics.hpp"

#include <cmath>

namespace tasklets {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// Index of the highest non-empty bucket, or kBucketCount if all are empty.
unsigned top_bucket(const HistogramSnapshot& s) noexcept {
  for (unsigned b = LatencyHistogram::kBucketCount; b-- > 0;)
    if (s.counts[b] != 0) return b;
  return LatencyHistogram::kBucketCount;
}

}  // namespace

void LatencyHistogram::reset() noexcept {
  for (auto& c : counts_) c.store(0, kRelaxed);
  sum_ns_.store(0, kRelaxed);
  max_ns_.store(0, kRelaxed);
}

void LatencyHistogram::raise_max_shared(std::uint64_t ns) noexcept {
  // A CAS loop rather than load + store: another writer may raise the max
  // between our load and our store, and a store would then lower it again.
  std::uint64_t seen = max_ns_.load(kRelaxed);
  while (ns > seen && !max_ns_.compare_exchange_weak(seen, ns, kRelaxed)) {
  }
}

HistogramSnapshot snapshot(const LatencyHistogram& h) noexcept {
  HistogramSnapshot s;
  for (unsigned b = 0; b < LatencyHistogram::kBucketCount; ++b)
    s.counts[b] = h.counts_[b].load(kRelaxed);
  s.sum_ns = h.sum_ns_.load(kRelaxed);
  s.recorded_max_ns = h.max_ns_.load(kRelaxed);
  return s;
}

std::uint64_t HistogramSnapshot::count() const noexcept {
  std::uint64_t n = 0;
  for (std::uint64_t c : counts) n += c;
  return n;
}

std::uint64_t HistogramSnapshot::max_ns() const noexcept {
  // A snapshot racing a writer can hold a bucket count whose max store it
  // missed, or a max whose bucket count it missed; clamping into the top
  // bucket makes both cases agree with the counts.
  const unsigned top = top_bucket(*this);
  if (top == LatencyHistogram::kBucketCount) return 0;
  return std::clamp(recorded_max_ns, LatencyHistogram::bucket_lower(top),
                    LatencyHistogram::bucket_upper(top));
}

double HistogramSnapshot::mean_ns() const noexcept {
  const std::uint64_t n = count();
  return n == 0 ? 0.0 : double(sum_ns) / double(n);
}

std::uint64_t HistogramSnapshot::percentile_ns(double p) const noexcept {
  const std::uint64_t n = count();
  if (n == 0) return 0;
  // !(p > 0) also catches NaN. Multiplying before dividing keeps p * n exact
  // for the usual p (99.9 * 1000 == 99900), so ceil does not round up a rank.
  const double clamped = !(p > 0.0) ? 0.0 : std::min(p, 100.0);
  const double exact_rank = std::ceil(clamped * double(n) / 100.0);
  const std::uint64_t rank =
      std::clamp<std::uint64_t>(std::uint64_t(exact_rank), 1, n);
  std::uint64_t seen = 0;
  for (unsigned b = 0; b < LatencyHistogram::kBucketCount; ++b) {
    seen += counts[b];
    if (seen >= rank) return std::min(LatencyHistogram::bucket_upper(b), max_ns());
  }
  return max_ns();  // unreachable: seen reaches n >= rank
}

void HistogramSnapshot::merge(const HistogramSnapshot& other) noexcept {
  for (unsigned b = 0; b < LatencyHistogram::kBucketCount; ++b)
    counts[b] += other.counts[b];
  sum_ns += other.sum_ns;
  recorded_max_ns = std::max(recorded_max_ns, other.recorded_max_ns);
}

LatencySummary summarize(const HistogramSnapshot& s) noexcept {
  LatencySummary out;
  out.count = s.count();
  out.p50_ns = s.percentile_ns(50.0);
  out.p90_ns = s.percentile_ns(90.0);
  out.p99_ns = s.percentile_ns(99.0);
  out.p999_ns = s.percentile_ns(99.9);
  out.max_ns = s.max_ns();
  out.mean_ns = s.mean_ns();
  return out;
}

void WorkerCountersSnapshot::merge(const WorkerCountersSnapshot& o) noexcept {
#define TASKLETS_MERGE(field, name) field += o.field;
  TASKLETS_WORKER_COUNTERS(TASKLETS_MERGE)
#undef TASKLETS_MERGE
}

WorkerCountersSnapshot snapshot(const WorkerCounters& c) noexcept {
  WorkerCountersSnapshot s;
#define TASKLETS_LOAD(field, name) s.field = c.field.load(kRelaxed);
  TASKLETS_WORKER_COUNTERS(TASKLETS_LOAD)
#undef TASKLETS_LOAD
  return s;
}

}  // namespace tasklets
