// A pool's figures in the Prometheus text exposition format (version 0.0.4),
// for C++ services; the Node package writes the same families from
// js/metrics/ (docs/observability.md lists them).
//
// Histograms are exposed with fixed log-scale `le` bounds (1-2.5-5 per
// decade from 1 us to 60 s), derived from the runtime's log-linear latency
// histograms: a native bucket is counted under a bound when its largest
// value is at most that bound, so a value less than 3.1% below a bound (the
// native resolution) may be counted under the next one. `_count` and `_sum`
// are exact.
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tasklets/metrics.hpp"
#include "tasklets/stats.hpp"

namespace tasklets {

inline constexpr std::array<std::uint64_t, 24> kExpositionBoundsNs = {
    1'000,          2'500,          5'000,          10'000,         25'000,         50'000,
    100'000,        250'000,        500'000,        1'000'000,      2'500'000,      5'000'000,
    10'000'000,     25'000'000,     50'000'000,     100'000'000,    250'000'000,    500'000'000,
    1'000'000'000,  2'500'000'000,  5'000'000'000,  10'000'000'000, 25'000'000'000, 60'000'000'000};

// The bounds as `le` label values, in seconds.
inline constexpr std::array<std::string_view, 24> kExpositionBoundLabels = {
    "0.000001", "0.0000025", "0.000005", "0.00001", "0.000025", "0.00005",
    "0.0001",   "0.00025",   "0.0005",   "0.001",   "0.0025",   "0.005",
    "0.01",     "0.025",     "0.05",     "0.1",     "0.25",     "0.5",
    "1",        "2.5",       "5",        "10",      "25",       "60"};

struct ExpositionBuckets {
  std::array<std::uint64_t, kExpositionBoundsNs.size()> cumulative{};  // values <= each bound
  std::uint64_t count = 0;                                             // every value (+Inf)
  std::uint64_t sum_ns = 0;
};

ExpositionBuckets exposition_buckets(const HistogramSnapshot& h) noexcept;

// Label name/value pairs added to every sample (e.g. {{"pool", "images"}}).
// Names must match [a-zA-Z_][a-zA-Z0-9_]*; values are escaped.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Writes every family of `stats` (with HELP and TYPE lines). Throws
// Error(invalid_argument) for a label name that is not valid.
void write_prometheus(std::ostream& out, const PoolStats& stats, const MetricLabels& labels = {});

}  // namespace tasklets
