// The C++ hot paths, for the instruction-count regression test
// (perf/instructions.js runs this under `valgrind --tool=callgrind` and
// reads the inclusive cost of the functions named `measured_*` and of the
// worker's Scheduler::execute). Wall-clock time plays no part: on a shared
// 2-core machine it is noise, while the instruction count of the same code
// is the same from run to run.
//
//   instructions_core single N   N tasks, one at a time: submit, run on the
//                                worker, complete, wait for the handle
//   instructions_core bulk N     N callables through post_batch, in runs of
//                                4,096, each run waited for
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "tasklets/pool.hpp"

namespace {

std::atomic<unsigned long> ran{0};

// One worker that parks as soon as it is idle: a spinning worker's polls
// would be counted in no function measured here, but they would take the
// valgrind-serialized CPU away from the submitter for nothing.
tasklets::PoolConfig config() {
  tasklets::PoolConfig c;
  c.workers.min = 1;
  c.workers.max = 1;
  c.placement = tasklets::Placement::none;
  c.spin_rounds = 0;
  c.yield_rounds = 0;
  return c;
}

[[gnu::noinline]] tasklets::Handle<int> measured_submit(tasklets::Pool& pool, int i) {
  return pool.submit([i] { return i + 1; });
}

struct Add {
  void operator()() const noexcept { ran.fetch_add(1, std::memory_order_relaxed); }
};

[[gnu::noinline]] void measured_post_batch(tasklets::Pool& pool, std::vector<Add>& fns) {
  pool.post_batch(std::span<Add>(fns));
}

int single(tasklets::Pool& pool, int n) {
  for (int i = 0; i < n; ++i) {
    auto h = measured_submit(pool, i);
    if (h.get() != i + 1) return 1;
  }
  return 0;
}

int bulk(tasklets::Pool& pool, int n) {
  constexpr int kRun = 4096;
  std::vector<Add> fns(kRun);
  for (int done = 0; done < n; done += kRun) {
    const unsigned long target = ran.load() + kRun;
    measured_post_batch(pool, fns);
    while (ran.load(std::memory_order_relaxed) < target) std::this_thread::yield();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "single") != 0 && std::strcmp(argv[1], "bulk") != 0)) {
    std::fprintf(stderr, "usage: instructions_core single|bulk N\n");
    return 2;
  }
  const int n = std::atoi(argv[2]);
  tasklets::Pool pool(config());
  const int rc = std::strcmp(argv[1], "single") == 0 ? single(pool, n) : bulk(pool, n);
  pool.shutdown();
  std::printf("%s %d tasks: %s\n", argv[1], n, rc == 0 ? "ok" : "wrong result");
  return rc;
}
