// Latency histograms and per-worker counters.
//
// Everything here is written on the per-task path, so recording is a handful
// of relaxed loads and stores into memory allocated at construction; nothing
// locks, allocates or loops. Reading is the slow side: a reader copies the
// atomics into a plain snapshot, and all arithmetic (percentiles, merging,
// summaries) runs on snapshots.
//
// Memory-order rules, shared by both halves of this file:
//  * Every counter is a std::atomic<std::uint64_t>, so a reader never sees a
//    torn value, and by read-read coherence a thread that loads a counter twice
//    never sees it go backwards. That is all a metrics reader needs, so every
//    access is relaxed: no record publishes other data, and nobody makes
//    decisions based on seeing two counters in step.
//  * Counters are independent. A snapshot taken while writers run may include
//    a record in its bucket but not yet in the sum or the max (or the other way
//    round). Snapshot arithmetic tolerates this: max_ns() is kept inside the
//    highest non-empty bucket, and the mean is off by at most the records in
//    flight.
//  * "Owned" writers (one thread at a time) update with a relaxed load and a
//    relaxed store instead of a read-modify-write: with a single writer no
//    update can be lost, and a plain store is several times cheaper than a
//    locked RMW. Handing ownership to another thread needs a happens-before
//    edge (thread join, mutex, a release/acquire hand-off) so the new owner's
//    first load sees the previous owner's last store.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace tasklets {

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "metrics recording must not fall back to a lock");

struct HistogramSnapshot;

// Log-linear histogram over nanoseconds, in the style of HdrHistogram.
//
// Values below 2 * kSubBucketCount (64) get one bucket each. Above that, every
// power-of-two range [2^e, 2^(e+1)) is split into kSubBucketCount equal
// sub-buckets, so a bucket's width is at most 1/kSubBucketCount (~3.1%) of its
// lower bound. Values up to kMaxTrackableNs (2^40 - 1 ns, ~18 min) are
// resolved; anything larger lands in one overflow bucket at the top, whose
// bounds are [kOverflowNs, largest uint64_t].
//
// Writers: a histogram is used either as "owned" (record_owned, one writer at a
// time, e.g. the worker that owns it) or as "shared" (record_shared, any number
// of writers). Mixing both on one histogram while they overlap loses counts.
// Readers: snapshot() may run at any time, from any thread.
class alignas(64) LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 5;
  static constexpr std::uint64_t kSubBucketCount = std::uint64_t{1} << kSubBits;
  static constexpr unsigned kMaxBits = 40;
  static constexpr std::uint64_t kOverflowNs = std::uint64_t{1} << kMaxBits;
  static constexpr std::uint64_t kMaxTrackableNs = kOverflowNs - 1;
  // Widest bucket divided by its lower bound, for values in [1, kMaxTrackableNs].
  static constexpr double kMaxRelativeError = 1.0 / double(kSubBucketCount);

  // A value whose bit width is b is shifted right by b - (kSubBits + 1) so that
  // kSubBits + 1 significant bits remain; the shift picks the group of
  // kSubBucketCount buckets and the remaining bits pick the bucket in it.
  // Clamping to kOverflowNs lands one past the last regular bucket, which is
  // the overflow bucket, so no separate branch is needed for it.
  static constexpr unsigned kLastShift = kMaxBits - (kSubBits + 1);
  static constexpr unsigned kBucketCount =
      unsigned((kLastShift + 2) * kSubBucketCount + 1);

  // Total and monotonic: every uint64_t maps to a bucket, larger values never
  // to a smaller bucket. Branch-light: two min/max selects, one bit scan.
  static constexpr unsigned bucket_of(std::uint64_t ns) noexcept {
    const std::uint64_t v = std::min(ns, kOverflowNs);
    const unsigned width = unsigned(std::bit_width(v));
    const unsigned shift = std::max(width, kSubBits + 1) - (kSubBits + 1);
    return unsigned(shift * kSubBucketCount + (v >> shift));
  }

  // Smallest value that maps to bucket b (b < kBucketCount).
  static constexpr std::uint64_t bucket_lower(unsigned b) noexcept {
    const unsigned shift = shift_of(b);
    return (b - shift * kSubBucketCount) << shift;
  }

  // Largest value that maps to bucket b (b < kBucketCount). The overflow
  // bucket takes every value from kOverflowNs up.
  static constexpr std::uint64_t bucket_upper(unsigned b) noexcept {
    if (b + 1 >= kBucketCount) return std::numeric_limits<std::uint64_t>::max();
    const unsigned shift = shift_of(b);
    return ((b - shift * kSubBucketCount + 1) << shift) - 1;
  }

  // One writer at a time (see the class comment). Relaxed load + store per
  // counter: no other thread writes these, so nothing can be lost between the
  // load and the store, and readers only need each counter to be untorn.
  void record_owned(std::uint64_t ns) noexcept {
    bump_owned(counts_[bucket_of(ns)], 1);
    bump_owned(sum_ns_, std::min(ns, kOverflowNs));
    // Compare, then store: the single writer is the only one who can raise it.
    if (ns > max_ns_.load(std::memory_order_relaxed))
      max_ns_.store(ns, std::memory_order_relaxed);
  }

  // Any number of concurrent writers. fetch_add keeps every record; relaxed is
  // enough because the counts publish nothing but themselves.
  void record_shared(std::uint64_t ns) noexcept {
    counts_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(std::min(ns, kOverflowNs), std::memory_order_relaxed);
    if (ns > max_ns_.load(std::memory_order_relaxed)) raise_max_shared(ns);
  }

  // Only while no writer runs; the caller's own synchronisation (join, the
  // pool being quiescent) orders these stores before the next record.
  void reset() noexcept;

 private:
  friend HistogramSnapshot snapshot(const LatencyHistogram&) noexcept;

  static constexpr unsigned shift_of(unsigned b) noexcept {
    return std::max(b / unsigned(kSubBucketCount), 1u) - 1;
  }

  static void bump_owned(std::atomic<std::uint64_t>& c,
                         std::uint64_t n) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // Out of line: runs only when a new maximum arrives, which for a stable
  // latency distribution becomes rare after warm-up.
  void raise_max_shared(std::uint64_t ns) noexcept;

  // The sum counts values above kOverflowNs as kOverflowNs so that a few
  // absurd values cannot wrap it; the max stays exact.
  std::atomic<std::uint64_t> sum_ns_{0};
  std::atomic<std::uint64_t> max_ns_{0};
  std::array<std::atomic<std::uint64_t>, kBucketCount> counts_{};
};

static_assert(LatencyHistogram::bucket_of(0) == 0);
static_assert(LatencyHistogram::bucket_of(LatencyHistogram::kMaxTrackableNs) ==
              LatencyHistogram::kBucketCount - 2);
static_assert(LatencyHistogram::bucket_of(LatencyHistogram::kOverflowNs) ==
              LatencyHistogram::kBucketCount - 1);
static_assert(LatencyHistogram::bucket_lower(LatencyHistogram::kBucketCount - 1) ==
              LatencyHistogram::kOverflowNs);
static_assert(LatencyHistogram::bucket_upper(LatencyHistogram::kBucketCount - 2) +
                  1 ==
              LatencyHistogram::bucket_lower(LatencyHistogram::kBucketCount - 1));

// A plain, copyable copy of a histogram. Each field was read atomically, but
// fields were read at slightly different moments (see the file comment).
struct HistogramSnapshot {
  std::array<std::uint64_t, LatencyHistogram::kBucketCount> counts{};
  std::uint64_t sum_ns = 0;           // values above kOverflowNs clamped
  std::uint64_t recorded_max_ns = 0;  // exact, as read; see max_ns()

  std::uint64_t count() const noexcept;
  // The exact recorded maximum, kept within the highest non-empty bucket so it
  // agrees with the counts even when the snapshot raced a writer. 0 if empty.
  std::uint64_t max_ns() const noexcept;
  double mean_ns() const noexcept;  // 0 if empty
  // p in [0, 100] (clamped). The upper bound of the bucket holding the
  // ceil(p% * count)-th smallest value, capped at max_ns(); never below the
  // true percentile, and for values up to kMaxTrackableNs at most
  // kMaxRelativeError above it. 0 if empty.
  std::uint64_t percentile_ns(double p) const noexcept;
  void merge(const HistogramSnapshot& other) noexcept;

  bool operator==(const HistogramSnapshot&) const = default;
};

HistogramSnapshot snapshot(const LatencyHistogram& h) noexcept;

struct LatencySummary {
  std::uint64_t count = 0;
  std::uint64_t p50_ns = 0;
  std::uint64_t p90_ns = 0;
  std::uint64_t p99_ns = 0;
  std::uint64_t p999_ns = 0;
  std::uint64_t max_ns = 0;
  double mean_ns = 0.0;
};

LatencySummary summarize(const HistogramSnapshot& s) noexcept;

// The per-worker event counters, one line each: X(field, name in getStats()).
// The counters, their snapshot, merge(), snapshot() and the addon's stats
// are all written from this one list.
//   executed   tasks run to completion
//   failed     tasks that ended in an exception
//   stolen     tasks taken from another worker
//   parked     times the worker went to sleep
//   woken      times it was woken
//   cancelled  tasks skipped as cancelled, or stopped as cancelled on a hosted slot
//   timed_out  tasks skipped past their deadline, or stopped as timed_out on a hosted slot
#define TASKLETS_WORKER_COUNTERS(X) \
  X(executed, "executed")           \
  X(failed, "failed")               \
  X(stolen, "stolen")               \
  X(parked, "parked")               \
  X(woken, "woken")                 \
  X(cancelled, "cancelled")         \
  X(timed_out, "timedOut")

// Per-worker event counters. Written only by the owning worker (relaxed load +
// store, as record_owned above), read by snapshot() from any thread. The
// alignment keeps each worker's block on its own cache line(s), so one worker's
// stores never invalidate the line another worker is writing.
struct alignas(64) WorkerCounters {
#define TASKLETS_COUNTER_FIELD(field, name) std::atomic<std::uint64_t> field{0};
  TASKLETS_WORKER_COUNTERS(TASKLETS_COUNTER_FIELD)
#undef TASKLETS_COUNTER_FIELD

  // Owner-only increment of one of the fields above: not safe against a
  // concurrent add() from another thread (an increment could be lost).
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

static_assert(alignof(WorkerCounters) == 64);
static_assert(sizeof(WorkerCounters) % 64 == 0,
              "two workers' counters must never share a cache line");

struct WorkerCountersSnapshot {
#define TASKLETS_SNAPSHOT_FIELD(field, name) std::uint64_t field = 0;
  TASKLETS_WORKER_COUNTERS(TASKLETS_SNAPSHOT_FIELD)
#undef TASKLETS_SNAPSHOT_FIELD

  // Field-wise sum, for pool-wide totals over all workers.
  void merge(const WorkerCountersSnapshot& other) noexcept;

  bool operator==(const WorkerCountersSnapshot&) const = default;
};

WorkerCountersSnapshot snapshot(const WorkerCounters& c) noexcept;

}  // namespace tasklets
