// Tests of the per-NUMA-node jemalloc arenas (src/arena.cpp).
#include "tasklets/arena.hpp"

#include <gtest/gtest.h>
#include <jemalloc/jemalloc.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support.hpp"
#include "tasklets/error.hpp"

namespace tasklets {
namespace {

// Records every binding so a test can check where each block's memory went.
// Uses glibc's malloc (std::vector), never tlje_*, as the binder contract asks.
class FakeBinder {
 public:
  struct Range {
    std::uintptr_t begin;
    std::uintptr_t end;
    unsigned numa;
  };

  static bool bind(void* ctx, void* addr, std::size_t len, unsigned numa) {
    auto* self = static_cast<FakeBinder*>(ctx);
    std::lock_guard<std::mutex> lock(self->mutex_);
    auto begin = reinterpret_cast<std::uintptr_t>(addr);
    self->ranges_.push_back({begin, begin + len, numa});
    return self->succeed_;
  }

  explicit FakeBinder(bool succeed = true) : succeed_(succeed) {}

  std::size_t calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return ranges_.size();
  }

  std::size_t calls_for(unsigned numa) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (const Range& r : ranges_) n += r.numa == numa ? 1 : 0;
    return n;
  }

  // True when both ends of the block lie in ranges bound to numa.
  bool covers(const void* p, std::size_t len, unsigned numa) const {
    auto begin = reinterpret_cast<std::uintptr_t>(p);
    return bound_to(begin, numa) && bound_to(begin + len - 1, numa);
  }

 private:
  bool bound_to(std::uintptr_t addr, unsigned numa) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Range& r : ranges_) {
      if (addr >= r.begin && addr < r.end) return r.numa == numa;
    }
    return false;
  }

  mutable std::mutex mutex_;
  std::vector<Range> ranges_;
  bool succeed_;
};

bool throwing_binder(void*, void*, std::size_t, unsigned) { throw std::runtime_error("boom"); }

using test_support::error_code_of;

unsigned arena_of(const void* p) {
  unsigned index = ~0u;
  std::size_t len = sizeof index;
  EXPECT_EQ(tlje_mallctl("arenas.lookup", &index, &len, &p, sizeof p), 0);
  return index;
}

struct Block {
  void* p;
  std::size_t size;
};

constexpr std::size_t kLarge = 256 * 1024;
constexpr std::size_t kSmall = 96;

// Several MB in large and small blocks: enough to need fresh extents.
std::vector<Block> fill(ArenaSet& set, unsigned node, int large_blocks = 24) {
  std::vector<Block> blocks;
  for (int i = 0; i < large_blocks; ++i) blocks.push_back({set.allocate(node, kLarge), kLarge});
  for (int i = 0; i < 2000; ++i) blocks.push_back({set.allocate(node, kSmall), kSmall});
  for (Block& b : blocks) std::memset(b.p, 0xA5, b.size);
  return blocks;
}

void release(ArenaSet& set, std::vector<Block>& blocks) {
  for (Block& b : blocks) set.deallocate(b.p, b.size);
  blocks.clear();
}

TEST(Arena, SingleNodeAllocatesWithoutBinding) {
  FakeBinder binder;
  ArenaSet set(1, &FakeBinder::bind, &binder);
  EXPECT_EQ(set.node_count(), 1u);
  EXPECT_NE(set.arena_index(0), 0u);
  auto blocks = fill(set, 0);
  for (const Block& b : blocks) EXPECT_EQ(arena_of(b.p), set.arena_index(0));
  release(set, blocks);
  EXPECT_EQ(binder.calls(), 0u) << "one node needs no binding";
}

TEST(Arena, EveryExtentOfNodeKIsBoundToK) {
  FakeBinder binder;
  ArenaSet set(4, &FakeBinder::bind, &binder);
  std::vector<std::vector<Block>> per_node;
  for (unsigned k = 0; k < 4; ++k) per_node.push_back(fill(set, k));
  for (unsigned k = 0; k < 4; ++k) {
    EXPECT_GT(binder.calls_for(k), 0u);
    for (const Block& b : per_node[k]) {
      ASSERT_TRUE(binder.covers(b.p, b.size, k)) << "block of node " << k << " not bound to it";
      ASSERT_EQ(arena_of(b.p), set.arena_index(k));
    }
  }
  for (auto& blocks : per_node) release(set, blocks);
  EXPECT_EQ(set.stats(2).bind_failures, 0u);
}

// jemalloc allocates an arena's metadata through its hooks while
// "arenas.create" runs, before the index is known to us: those extents must
// be bound too (the reason hooks find their node by pointer, not by index).
TEST(Arena, MetadataAllocatedDuringCreateIsBound) {
  FakeBinder binder;
  ArenaSet set(3, &FakeBinder::bind, &binder);
  for (unsigned k = 0; k < 3; ++k) EXPECT_GT(binder.calls_for(k), 0u) << "node " << k;
}

TEST(Arena, DistinctArenasPerNode) {
  ArenaSet set(4, nullptr, nullptr);
  for (unsigned a = 0; a < 4; ++a) {
    for (unsigned b = a + 1; b < 4; ++b) EXPECT_NE(set.arena_index(a), set.arena_index(b));
  }
}

TEST(Arena, TwoSetsEachCallTheirOwnBinder) {
  FakeBinder first_binder;
  FakeBinder second_binder;
  ArenaSet first(2, &FakeBinder::bind, &first_binder);
  ArenaSet second(3, &FakeBinder::bind, &second_binder);
  const std::size_t first_calls = first_binder.calls();
  auto second_blocks = fill(second, 2);
  EXPECT_EQ(first_binder.calls(), first_calls) << "second set's extents went to first binder";
  for (const Block& b : second_blocks) ASSERT_TRUE(second_binder.covers(b.p, b.size, 2));
  auto first_blocks = fill(first, 1);
  for (const Block& b : first_blocks) {
    ASSERT_TRUE(first_binder.covers(b.p, b.size, 1));
    ASSERT_FALSE(second_binder.covers(b.p, b.size, 1));
  }
  release(first, first_blocks);
  release(second, second_blocks);
}

// A recycled arena index must not bring back the binder of a destroyed set.
// jemalloc hands out destroyed indices first-in first-out, so a set with
// more nodes than earlier tests destroyed arenas is sure to reuse one.
TEST(Arena, RecycledIndexUsesTheNewBinder) {
  FakeBinder old_binder;
  unsigned old_index = 0;
  {
    ArenaSet old_set(2, &FakeBinder::bind, &old_binder);
    old_index = old_set.arena_index(0);
  }
  const std::size_t old_calls = old_binder.calls();
  FakeBinder new_binder;
  constexpr unsigned kNodes = 64;
  ArenaSet set(kNodes, &FakeBinder::bind, &new_binder);
  unsigned reused = kNodes;
  for (unsigned k = 0; k < kNodes; ++k) {
    if (set.arena_index(k) == old_index) reused = k;
  }
  ASSERT_LT(reused, kNodes) << "jemalloc did not recycle arena " << old_index;
  auto blocks = fill(set, reused);
  for (const Block& b : blocks) ASSERT_TRUE(new_binder.covers(b.p, b.size, reused));
  EXPECT_EQ(old_binder.calls(), old_calls);
  release(set, blocks);
}

TEST(Arena, StatsFollowAllocationAndPurge) {
  ArenaSet set(2, nullptr, nullptr);
  const ArenaStats before = set.stats(1);
  auto blocks = fill(set, 1, 32);  // 8 MiB large + small
  const ArenaStats during = set.stats(1);
  EXPECT_GE(during.allocated_bytes, before.allocated_bytes + 32 * kLarge);
  EXPECT_GE(during.active_bytes, during.allocated_bytes);
  EXPECT_GE(during.resident_bytes, 32 * kLarge);
  EXPECT_GE(during.mapped_bytes, during.active_bytes);
  EXPECT_GE(allocator_totals().allocated_bytes, 32 * kLarge);
  EXPECT_EQ(set.stats(0).allocated_bytes, 0u) << "node 0 untouched";

  release(set, blocks);
  set.purge(1);
  const ArenaStats after = set.stats(1);
  EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
  EXPECT_LT(after.resident_bytes, during.resident_bytes - 16 * kLarge);
  EXPECT_LE(after.active_bytes, before.active_bytes);
}

TEST(Arena, FailedOrThrowingBindingIsCountedAndMemoryStillServed) {
  FakeBinder refusing(false);
  const std::uint64_t total_before = allocator_totals().bind_failures;
  ArenaSet set(2, &FakeBinder::bind, &refusing);
  auto blocks = fill(set, 1);
  EXPECT_GE(set.stats(1).bind_failures, 1u);
  EXPECT_GE(allocator_totals().bind_failures, total_before + refusing.calls());
  release(set, blocks);

  ArenaSet throwing(2, &throwing_binder, nullptr);
  void* p = throwing.allocate(0, 4 * kLarge);
  throwing.deallocate(p, 4 * kLarge);
  EXPECT_GE(throwing.stats(0).bind_failures, 1u);
}

TEST(Arena, BindCurrentThreadRoutesPlainMalloc) {
  ArenaSet set(2, nullptr, nullptr);
  std::thread worker([&] {
    set.bind_current_thread(1);
    for (std::size_t size : {std::size_t{32}, std::size_t{5000}, std::size_t{1} << 20}) {
      void* p = tlje_malloc(size);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(arena_of(p), set.arena_index(1)) << "size " << size;
      tlje_free(p);
    }
  });
  worker.join();
}

// The destructor detaches the calling thread itself; otherwise jemalloc would
// refuse "arena.<i>.destroy" and the arena would be kept.
TEST(Arena, DestructorDetachesTheCallingThread) {
  testing::internal::CaptureStderr();
  {
    ArenaSet set(2, nullptr, nullptr);
    set.bind_current_thread(0);
    void* p = tlje_malloc(64);
    EXPECT_EQ(arena_of(p), set.arena_index(0));
    tlje_free(p);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  void* q = tlje_malloc(64);
  EXPECT_EQ(arena_of(q), 0u);
  tlje_free(q);
}

TEST(Arena, MisuseThrowsInvalidArgument) {
  EXPECT_EQ(error_code_of([] { ArenaSet set(0, nullptr, nullptr); }), Errc::invalid_argument);
  ArenaSet set(2, nullptr, nullptr);
  EXPECT_EQ(error_code_of([&] { set.allocate(2, 16); }), Errc::invalid_argument);
  EXPECT_EQ(error_code_of([&] { set.allocate(0, 16, 24); }), Errc::invalid_argument);
  EXPECT_EQ(error_code_of([&] { (void)set.arena_index(7); }), Errc::invalid_argument);
  EXPECT_EQ(error_code_of([&] { set.bind_current_thread(2); }), Errc::invalid_argument);
  EXPECT_EQ(error_code_of([&] { (void)set.stats(5); }), Errc::invalid_argument);
}

TEST(Arena, HugeAllocationThrowsAllocation) {
  ArenaSet set(1, nullptr, nullptr);
  EXPECT_EQ(error_code_of([&] { set.allocate(0, std::size_t{1} << 60); }), Errc::allocation);
}

TEST(Arena, AlignmentAndZeroSize) {
  ArenaSet set(2, nullptr, nullptr);
  for (std::size_t align : {std::size_t{1}, std::size_t{64}, std::size_t{4096}, std::size_t{1} << 21}) {
    void* p = set.allocate(1, 24, align);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0u) << align;
    set.deallocate(p, 24, align);
  }
  void* p = set.allocate(0, 8);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u);
  set.deallocate(p, 8);
  void* z = set.allocate(0, 0);
  EXPECT_NE(z, nullptr);
  set.deallocate(z, 0);
  set.deallocate(nullptr, 16);
  EXPECT_EQ(set.stats(0).allocated_bytes, 0u);
}

// Threads allocate on every node and free each other's blocks.
TEST(Arena, ConcurrentAllocationAcrossThreads) {
  FakeBinder binder;
  ArenaSet set(4, &FakeBinder::bind, &binder);
  constexpr int kThreads = 4;
  constexpr int kRounds = 3000;
  std::vector<std::vector<Block>> handed(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const unsigned node = static_cast<unsigned>(i + t) % 4;
        const std::size_t size = 16 + static_cast<std::size_t>((i * 37 + t) % 20000);
        void* p = set.allocate(node, size);
        std::memset(p, t, size);
        if (i % 2 == 0) handed[t].push_back({p, size});
        else set.deallocate(p, size);
      }
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (const Block& b : handed[(t + 1) % kThreads]) {
        ASSERT_EQ(static_cast<unsigned char*>(b.p)[b.size - 1], (t + 1) % kThreads);
        set.deallocate(b.p, b.size);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (unsigned k = 0; k < 4; ++k) EXPECT_EQ(set.stats(k).allocated_bytes, 0u) << k;
}

}  // namespace
}  // namespace tasklets
