// Unit tests for tasklets/metrics.hpp: bucket math, snapshot arithmetic, and
// readers racing writers (these last ones are meant for ThreadSanitizer too).
#include "tasklets/metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

namespace tasklets {
namespace {

using H = LatencyHistogram;
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

// Values that stress the bucket edges: 0, 1, 2^e - 1, 2^e, 2^e + 1 for every
// e, plus random values of every bit width.
std::vector<std::uint64_t> edge_and_random_values() {
  std::vector<std::uint64_t> v{0, 1, kU64Max};
  for (unsigned e = 1; e < 64; ++e) {
    const std::uint64_t p = std::uint64_t{1} << e;
    v.insert(v.end(), {p - 1, p, p + 1});
  }
  std::mt19937_64 rng(42);
  for (unsigned bits = 1; bits <= 64; ++bits)
    for (int i = 0; i < 200; ++i)
      v.push_back(bits == 64 ? rng() : rng() & ((std::uint64_t{1} << bits) - 1));
  return v;
}

TEST(LatencyHistogramBuckets, PartitionAllValuesContiguously) {
  EXPECT_EQ(H::bucket_lower(0), 0u);
  EXPECT_EQ(H::bucket_upper(H::kBucketCount - 1), kU64Max);
  for (unsigned b = 0; b < H::kBucketCount; ++b) {
    ASSERT_LE(H::bucket_lower(b), H::bucket_upper(b)) << b;
    ASSERT_EQ(H::bucket_of(H::bucket_lower(b)), b) << b;
    ASSERT_EQ(H::bucket_of(H::bucket_upper(b)), b) << b;
    if (b + 1 < H::kBucketCount) {
      ASSERT_EQ(H::bucket_upper(b) + 1, H::bucket_lower(b + 1)) << b;
    }
  }
}

TEST(LatencyHistogramBuckets, MonotonicOverDenseSweep) {
  for (std::uint64_t v = 0; v < (1u << 18); ++v)
    ASSERT_LE(H::bucket_of(v), H::bucket_of(v + 1)) << v;
}

TEST(LatencyHistogramBuckets, MonotonicAndContainingForEdgesAndRandom) {
  auto values = edge_and_random_values();
  std::sort(values.begin(), values.end());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint64_t v = values[i];
    const unsigned b = H::bucket_of(v);
    ASSERT_LT(b, H::kBucketCount) << v;
    ASSERT_LE(H::bucket_lower(b), v) << v;
    ASSERT_GE(H::bucket_upper(b), v) << v;
    if (i > 0) {
      ASSERT_LE(H::bucket_of(values[i - 1]), b) << v;
    }
  }
}

TEST(LatencyHistogramBuckets, SmallValuesAreExact) {
  for (std::uint64_t v = 0; v < 2 * H::kSubBucketCount; ++v) {
    EXPECT_EQ(H::bucket_lower(H::bucket_of(v)), v);
    EXPECT_EQ(H::bucket_upper(H::bucket_of(v)), v);
  }
}

TEST(LatencyHistogramBuckets, RelativeErrorBound) {
  for (std::uint64_t v : edge_and_random_values()) {
    if (v == 0 || v > H::kMaxTrackableNs) continue;
    const unsigned b = H::bucket_of(v);
    const double width = double(H::bucket_upper(b) - H::bucket_lower(b));
    ASSERT_LE(width, double(v) * H::kMaxRelativeError) << v;
  }
  for (unsigned b = 1; b + 1 < H::kBucketCount; ++b) {
    const double width = double(H::bucket_upper(b) - H::bucket_lower(b));
    ASSERT_LE(width, double(H::bucket_lower(b)) * H::kMaxRelativeError) << b;
  }
  EXPECT_LE(H::kMaxRelativeError, 0.0625);
}

TEST(LatencyHistogramBuckets, HugeValuesClampToOverflowBucket) {
  const unsigned top = H::kBucketCount - 1;
  EXPECT_EQ(H::bucket_of(H::kMaxTrackableNs), top - 1);
  EXPECT_EQ(H::bucket_of(H::kOverflowNs), top);
  EXPECT_EQ(H::bucket_lower(top), H::kOverflowNs);
  EXPECT_EQ(H::bucket_of(std::uint64_t{1} << 50), top);
  EXPECT_EQ(H::bucket_of(kU64Max), top);
  EXPECT_LT(H::bucket_of(H::kMaxTrackableNs / 2), top);
}

TEST(HistogramSnapshot, EmptyIsAllZero) {
  H h;
  const auto s = snapshot(h);
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.max_ns(), 0u);
  EXPECT_EQ(s.mean_ns(), 0.0);
  EXPECT_EQ(s.percentile_ns(50), 0u);
  EXPECT_EQ(s.percentile_ns(100), 0u);
  const auto sum = summarize(s);
  EXPECT_EQ(sum.count, 0u);
  EXPECT_EQ(sum.p50_ns, 0u);
  EXPECT_EQ(sum.p999_ns, 0u);
  EXPECT_EQ(sum.max_ns, 0u);
  EXPECT_EQ(sum.mean_ns, 0.0);
}

TEST(HistogramSnapshot, SingleValueIsReportedExactly) {
  H h;
  h.record_owned(12345);
  const auto s = summarize(snapshot(h));
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.p50_ns, 12345u);
  EXPECT_EQ(s.p90_ns, 12345u);
  EXPECT_EQ(s.p99_ns, 12345u);
  EXPECT_EQ(s.p999_ns, 12345u);
  EXPECT_EQ(s.max_ns, 12345u);
  EXPECT_EQ(s.mean_ns, 12345.0);
}

// The reported percentile is the upper bound of the bucket holding the true
// one, so it may exceed it by at most the bucket's width, never fall below.
void expect_within_bucket(std::uint64_t got, std::uint64_t truth) {
  EXPECT_GE(got, truth);
  EXPECT_LE(got, H::bucket_upper(H::bucket_of(truth)));
  EXPECT_LE(double(got - truth), double(truth) * H::kMaxRelativeError);
}

TEST(HistogramSnapshot, UniformDistributionPercentiles) {
  H h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record_owned(v);
  const auto s = snapshot(h);
  EXPECT_EQ(s.count(), 100000u);
  EXPECT_EQ(s.max_ns(), 100000u);
  EXPECT_DOUBLE_EQ(s.mean_ns(), 50000.5);
  expect_within_bucket(s.percentile_ns(50), 50000);
  expect_within_bucket(s.percentile_ns(90), 90000);
  expect_within_bucket(s.percentile_ns(99), 99000);
  expect_within_bucket(s.percentile_ns(99.9), 99900);
  EXPECT_EQ(s.percentile_ns(100), 100000u);
  EXPECT_EQ(s.percentile_ns(0), 1u);
}

TEST(HistogramSnapshot, BimodalDistributionPercentiles) {
  H h;
  for (int i = 0; i < 900; ++i) h.record_owned(1000);
  for (int i = 0; i < 100; ++i) h.record_owned(1000000);
  const auto s = summarize(snapshot(h));
  EXPECT_EQ(s.count, 1000u);
  expect_within_bucket(s.p50_ns, 1000);
  expect_within_bucket(s.p90_ns, 1000);  // the 900th value is still fast
  EXPECT_EQ(s.p99_ns, 1000000u);         // capped at the exact max
  EXPECT_EQ(s.p999_ns, 1000000u);
  EXPECT_EQ(s.max_ns, 1000000u);
  EXPECT_DOUBLE_EQ(s.mean_ns, (900.0 * 1000 + 100.0 * 1000000) / 1000);
}

TEST(HistogramSnapshot, PercentileArgumentIsClamped) {
  H h;
  for (std::uint64_t v = 10; v <= 1000; v += 10) h.record_owned(v);
  const auto s = snapshot(h);
  EXPECT_EQ(s.percentile_ns(-5), s.percentile_ns(0));
  EXPECT_EQ(s.percentile_ns(std::nan("")), s.percentile_ns(0));
  EXPECT_EQ(s.percentile_ns(250), 1000u);
}

TEST(HistogramSnapshot, HugeValuesKeepExactMaxAndClampedSum) {
  H h;
  h.record_owned(kU64Max);
  h.record_owned(kU64Max);
  const auto s = snapshot(h);
  EXPECT_EQ(s.counts[H::kBucketCount - 1], 2u);
  EXPECT_EQ(s.max_ns(), kU64Max);
  EXPECT_EQ(s.percentile_ns(50), kU64Max);
  EXPECT_EQ(s.sum_ns, 2 * H::kOverflowNs);  // clamped, not wrapped
}

TEST(HistogramSnapshot, MaxStaysInsideTopBucketWhenFieldsDisagree) {
  // What a snapshot racing a writer may see: a count without its max, or a
  // max without its count.
  HistogramSnapshot s;
  s.counts[H::bucket_of(5000)] = 1;
  s.recorded_max_ns = 0;
  EXPECT_EQ(s.max_ns(), H::bucket_lower(H::bucket_of(5000)));
  s.recorded_max_ns = 900000;
  EXPECT_EQ(s.max_ns(), H::bucket_upper(H::bucket_of(5000)));
}

TEST(HistogramSnapshot, MergeEqualsRecordingEverythingInOne) {
  H a, b, all;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);  // every magnitude
    (i % 3 == 0 ? a : b).record_owned(v);
    all.record_owned(v);
  }
  auto merged = snapshot(a);
  merged.merge(snapshot(b));
  EXPECT_EQ(merged, snapshot(all));
  EXPECT_EQ(merged.count(), 20000u);

  HistogramSnapshot empty;
  empty.merge(snapshot(all));
  EXPECT_EQ(empty, snapshot(all));
}

TEST(LatencyHistogram, ResetClearsEverything) {
  H h;
  for (std::uint64_t v = 0; v < 5000; v += 7) h.record_shared(v);
  h.reset();
  EXPECT_EQ(snapshot(h), HistogramSnapshot{});
  h.record_owned(42);
  EXPECT_EQ(snapshot(h).max_ns(), 42u);
}

// Spreads values over many buckets (multiplicative hash, 30 bits).
std::uint64_t spread(std::uint64_t i) {
  return (i * 0x9E3779B97F4A7C15ull) >> 34;
}

// Takes snapshots until `done`, checking that no counter ever goes backwards
// (read-read coherence on each atomic). `taken` counts snapshots so writers
// can wait for the reader to be running before they start.
void snapshot_until_done(const H& h, const std::atomic<bool>& done,
                         std::atomic<int>& taken) {
  HistogramSnapshot prev;
  while (!done.load(std::memory_order_acquire)) {
    const HistogramSnapshot cur = snapshot(h);
    for (unsigned b = 0; b < H::kBucketCount; ++b)
      if (cur.counts[b] < prev.counts[b]) {
        ADD_FAILURE() << "bucket " << b << " went backwards";
        return;
      }
    EXPECT_GE(cur.count(), prev.count());
    EXPECT_GE(cur.sum_ns, prev.sum_ns);
    EXPECT_GE(cur.recorded_max_ns, prev.recorded_max_ns);
    prev = cur;
    taken.fetch_add(1, std::memory_order_relaxed);
  }
}

void wait_for_first_snapshot(const std::atomic<int>& taken) {
  while (taken.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
}

TEST(LatencyHistogramConcurrent, SharedWritersWithSnapshotReader) {
  constexpr std::uint64_t kPerThread = 1000000;
  H h;
  std::atomic<bool> done{false};
  std::atomic<int> taken{0};
  std::thread reader([&] { snapshot_until_done(h, done, taken); });
  std::vector<std::thread> writers;
  for (std::uint64_t t = 0; t < 2; ++t)
    writers.emplace_back([&h, &taken, t] {
      wait_for_first_snapshot(taken);
      for (std::uint64_t i = 0; i < kPerThread; ++i)
        h.record_shared(spread(t * kPerThread + i));
    });
  for (auto& w : writers) w.join();
  done.store(true, std::memory_order_release);
  reader.join();

  std::uint64_t sum = 0, max = 0;
  for (std::uint64_t i = 0; i < 2 * kPerThread; ++i) {
    sum += spread(i);
    max = std::max(max, spread(i));
  }
  const auto s = snapshot(h);
  EXPECT_EQ(s.count(), 2 * kPerThread);
  EXPECT_EQ(s.sum_ns, sum);
  EXPECT_EQ(s.max_ns(), max);
}

TEST(LatencyHistogramConcurrent, OwnedWriterWithSnapshotReader) {
  constexpr std::uint64_t kRecords = 1000000;
  H h;
  std::atomic<bool> done{false};
  std::atomic<int> taken{0};
  std::thread reader([&] { snapshot_until_done(h, done, taken); });
  std::thread writer([&] {
    wait_for_first_snapshot(taken);
    for (std::uint64_t i = 0; i < kRecords; ++i) h.record_owned(spread(i));
  });
  writer.join();
  done.store(true, std::memory_order_release);
  reader.join();

  H expected;
  for (std::uint64_t i = 0; i < kRecords; ++i) expected.record_owned(spread(i));
  EXPECT_EQ(snapshot(h), snapshot(expected));
}

TEST(WorkerCounters, LayoutKeepsWorkersOnSeparateCacheLines) {
  static_assert(alignof(WorkerCounters) == 64);
  static_assert(sizeof(WorkerCounters) % 64 == 0);
  std::vector<WorkerCounters> workers(4);
  for (std::size_t i = 0; i < workers.size(); ++i)
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&workers[i]) % 64, 0u);
}

TEST(WorkerCounters, AddSnapshotAndMerge) {
  WorkerCounters a, b;
  a.add(a.executed, 5);
  a.add(a.failed);
  a.add(a.stolen, 2);
  b.add(b.executed, 3);
  b.add(b.parked);
  b.add(b.woken);
  b.add(b.cancelled, 4);
  b.add(b.timed_out, 6);
  auto total = snapshot(a);
  EXPECT_EQ(total.executed, 5u);
  EXPECT_EQ(total.failed, 1u);
  total.merge(snapshot(b));
  EXPECT_EQ(total, (WorkerCountersSnapshot{8, 1, 2, 1, 1, 4, 6}));
}

TEST(WorkerCounters, OwnerWritesWhileReaderSnapshots) {
  constexpr std::uint64_t kEvents = 500000;
  std::vector<WorkerCounters> workers(2);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    WorkerCountersSnapshot prev[2];
    while (!done.load(std::memory_order_acquire))
      for (int w = 0; w < 2; ++w) {
        const auto cur = snapshot(workers[w]);
        EXPECT_GE(cur.executed, prev[w].executed);
        EXPECT_GE(cur.stolen, prev[w].stolen);
        prev[w] = cur;
      }
  });
  std::vector<std::thread> owners;
  for (int w = 0; w < 2; ++w)
    owners.emplace_back([&c = workers[w]] {
      for (std::uint64_t i = 0; i < kEvents; ++i) {
        c.add(c.executed);
        if (i % 4 == 0) c.add(c.stolen);
      }
    });
  for (auto& o : owners) o.join();
  done.store(true, std::memory_order_release);
  reader.join();
  for (const auto& c : workers) {
    EXPECT_EQ(snapshot(c).executed, kEvents);
    EXPECT_EQ(snapshot(c).stolen, kEvents / 4);
  }
}

}  // namespace
}  // namespace tasklets
