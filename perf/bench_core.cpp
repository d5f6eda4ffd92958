// bench_core: tasklets against oneTBB, rayon (perf/rust, built from Debian's
// librust-rayon-dev), thread_pool (Debian's libthread-pool-dev) and a plain
// mutex + condition_variable pool, side by side in one run, each in its best
// mode for the work, then Markdown tables with the ratio to the best of the
// others, and the performance targets (PASS/MISS).
//
// rayon runs in its own process (bench_rayon, next to this binary), started
// from this one for each of its rows, so its figures come from the same run.
// In quick mode (the CI smoke) a missing bench_rayon leaves its rows n/a; in
// a full run it fails the run (exit 3) after printing the tables.
//
// Workloads (every library gets the same worker count W: hardware threads,
// or TASKLETS_BENCH_WORKERS):
//   1. throughput_single: N empty tasks submitted one at a time from the
//      benchmark thread (tasklets post, TBB task_arena::enqueue, mutex pool
//      push + notify_one, thread_pool Submit, rayon::spawn). Each task bumps one shared atomic counter; the
//      iteration ends when the counter reaches N.
//   2. throughput_bulk: the same N tasks submitted in bulk (tasklets
//      post_batch, mutex pool: all under one lock then notify_all). TBB has
//      no bulk submission: its "bulk" is task_group::run in a loop; its best
//      bulk primitive, parallel_for over the N bodies, is shown too (with the
//      auto partitioner it runs far fewer than N tasks, and with grain 1 and
//      the simple partitioner about 2N), and so is rayon's par_iter for_each
//      (which splits adaptively too). thread_pool has no bulk API: a Submit
//      loop.
//   3. latency: one task into a parked pool (2 ms of idleness first), time
//      from just before submit to the task's first instruction (steady_clock
//      stamped inside the task). The libraries alternate sample by sample;
//      a bare futex hand-off to one parked thread is measured alongside as
//      the machine's floor. Manual time; <library>_p50_us / _p99_us counters.
//   4. fib: fib(30), sequential below a cutoff, fork-join with a blocking
//      join inside tasks (tasklets submit + get, TBB task_group, rayon::join).
//      The mutex pool and thread_pool are left out: a blocking join inside
//      one of their tasks parks a worker, and with W workers it deadlocks.
//   5. alloc: heap allocations per task in steady state. Global operator
//      new/delete and malloc/calloc/realloc are replaced in this binary by
//      counting forwarders (aligned_alloc/posix_memalign are not counted);
//      1M warm-up tasks, then 1M counted tasks (post, and submit + get, in
//      rounds of 1k awaited tasks, so both phases need the same working
//      set), and the task-object pool's chunk misses over the counted phase.
//      One unbounded burst of posts is shown for contrast (not a target).
//      Plus new/delete and malloc/free of 128 bytes for reference.
//
// Why it is fair: the same task body (bench::Tick), the same number of
// threads running tasks (tasklets and the mutex pool: W workers with the
// benchmark thread only submitting; TBB: task_arena(W, 0) for enqueue, and
// task_arena(W) with the benchmark thread as its master for task_group and
// parallel_for), and every result checked: the counter must end at exactly N,
// fib must return fib(30), or the benchmark reports an error.
// TASKLETS_BENCH_QUICK=1 runs fewer tasks and a shorter --benchmark_min_time.
#include <benchmark/benchmark.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <thread_pool/thread_pool.hpp>
#include <unistd.h>

#include "bench_baselines.hpp"
#include "tasklets/parallel_for.hpp"
#include "tasklets/pool.hpp"

// ---------------------------------------------------------------------------
// Allocation counting. Counting is switched on only around a measured phase,
// and then counts allocations from every thread.

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_news{0};
std::atomic<std::uint64_t> g_mallocs{0};

inline void count(std::atomic<std::uint64_t>& c) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) c.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

// glibc's own, forwarded: free() needs no replacement.
void* malloc(std::size_t n) noexcept {
  count(g_mallocs);
  return __libc_malloc(n);
}
void* calloc(std::size_t k, std::size_t n) noexcept {
  count(g_mallocs);
  return __libc_calloc(k, n);
}
void* realloc(void* p, std::size_t n) noexcept {
  count(g_mallocs);
  return __libc_realloc(p, n);
}
}

namespace {
// Goes to glibc directly, so a new is counted once, as a new.
void* counted_new(std::size_t n, std::size_t align) noexcept {
  count(g_news);
  if (n == 0) n = 1;
  if (align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return __libc_malloc(n);
  return __libc_memalign(align, n);
}
void* counted_new_or_throw(std::size_t n, std::size_t align) {
  void* p = counted_new(n, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_new_or_throw(n, 0); }
void* operator new[](std::size_t n) { return counted_new_or_throw(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_new_or_throw(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_new_or_throw(n, std::size_t(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_new(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_new(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_new(n, std::size_t(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_new(n, std::size_t(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using bench::Tick;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Settings, read once from the environment.

struct Settings {
  unsigned workers;
  bool quick;
  int tasks;            // per throughput iteration
  int latency_samples;  // per library in the latency benchmark
  int alloc_tasks;      // warm-up, and again counted
};

unsigned env_workers() {
  if (const char* s = std::getenv("TASKLETS_BENCH_WORKERS")) {
    const int n = std::atoi(s);
    if (n > 0) return static_cast<unsigned>(n);
    std::fprintf(stderr, "ignoring TASKLETS_BENCH_WORKERS=%s\n", s);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

const Settings& settings() {
  static const Settings s = [] {
    const char* q = std::getenv("TASKLETS_BENCH_QUICK");
    const bool quick = q != nullptr && *q != '\0' && std::strcmp(q, "0") != 0;
    return Settings{env_workers(), quick, quick ? 20'000 : 100'000, quick ? 200 : 1000,
                    quick ? 200'000 : 1'000'000};
  }();
  return s;
}

tasklets::PoolConfig tasklets_config() {
  tasklets::PoolConfig c;
  c.workers.min = c.workers.max = static_cast<int>(settings().workers);
  return c;
}

struct PoolFigures {
  std::uint64_t misses = 0, capacity = 0;
};

PoolFigures pool_figures(const tasklets::Pool& pool) {
  PoolFigures f;
  for (const auto& p : pool.stats().task_pools) {
    f.misses += p.misses;
    f.capacity += p.capacity;
  }
  return f;
}

// TBB arena where the benchmark thread is an outsider: W worker slots.
tbb::task_arena enqueue_arena() { return tbb::task_arena(static_cast<int>(settings().workers), 0); }
// TBB arena the benchmark thread joins as master: it plus W-1 workers.
tbb::task_arena master_arena() { return tbb::task_arena(static_cast<int>(settings().workers), 1); }

bench::Countdown g_done;  // program lifetime: see Countdown
bench::LatencyProbe g_probe;

// ---------------------------------------------------------------------------
// 1 + 2. Throughput of empty tasks.

// `submit_all(n)` hands n Ticks to a library; the iteration ends when all ran.
template <class SubmitAll>
void run_throughput(benchmark::State& state, SubmitAll&& submit_all) {
  const int n = settings().tasks;
  for (auto _ : state) {
    g_done.reset(n);
    submit_all(n);
    g_done.wait();
  }
  if (g_done.count() != n) state.SkipWithError("the counter did not end at exactly N");
  state.SetItemsProcessed(state.iterations() * n);
}

std::vector<Tick> ticks(int n) { return std::vector<Tick>(static_cast<std::size_t>(n), Tick{&g_done}); }

void tasklets_post(benchmark::State& state) {
  tasklets::Pool pool(tasklets_config());
  run_throughput(state, [&](int n) {
    for (int i = 0; i < n; ++i) pool.post(Tick{&g_done});
  });
}

void tasklets_post_batch(benchmark::State& state) {
  tasklets::Pool pool(tasklets_config());
  std::vector<Tick> fns = ticks(settings().tasks);
  run_throughput(state, [&](int) { pool.post_batch(std::span<Tick>(fns)); });
}

void tasklets_parallel_for(benchmark::State& state) {
  tasklets::Pool pool(tasklets_config());
  std::vector<Tick> fns = ticks(settings().tasks);
  run_throughput(state, [&](int n) {
    tasklets::parallel_for(pool, 0, static_cast<std::size_t>(n), [&](std::size_t i) { fns[i](); });
  });
}

void tbb_enqueue(benchmark::State& state) {
  tbb::task_arena arena = enqueue_arena();
  arena.initialize();
  run_throughput(state, [&](int n) {
    for (int i = 0; i < n; ++i) arena.enqueue(Tick{&g_done});
  });
}

void tbb_task_group(benchmark::State& state) {
  tbb::task_arena arena = master_arena();
  run_throughput(state, [&](int n) {
    arena.execute([&] {
      tbb::task_group group;
      for (int i = 0; i < n; ++i) group.run(Tick{&g_done});
      group.wait();
    });
  });
}

template <class Partitioner>
void tbb_parallel_for(benchmark::State& state, std::size_t grain) {
  tbb::task_arena arena = master_arena();
  std::vector<Tick> fns = ticks(settings().tasks);
  run_throughput(state, [&](int n) {
    arena.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, static_cast<std::size_t>(n), grain),
          [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t i = r.begin(); i != r.end(); ++i) fns[i]();
          },
          Partitioner());
    });
  });
}

void tbb_parallel_for_auto(benchmark::State& state) { tbb_parallel_for<tbb::auto_partitioner>(state, 1); }
void tbb_parallel_for_grain1(benchmark::State& state) { tbb_parallel_for<tbb::simple_partitioner>(state, 1); }

void mutex_push(benchmark::State& state) {
  bench::MutexPool pool(settings().workers);
  run_throughput(state, [&](int n) {
    for (int i = 0; i < n; ++i) pool.push(Tick{&g_done});
  });
}

void mutex_push_bulk(benchmark::State& state) {
  bench::MutexPool pool(settings().workers);
  std::vector<Tick> fns = ticks(settings().tasks);
  run_throughput(state, [&](int) { pool.push_bulk(std::span<Tick>(fns)); });
}

// Debian's libthread-pool-dev (Robert Vaser's ThreadPool: a queue and a
// mutex per thread, Sean Parent's try-push / try-pop across them). Submit
// makes a packaged_task and a future per task; the future is dropped.
void threadpool_submit(benchmark::State& state) {
  thread_pool::ThreadPool pool(settings().workers);
  run_throughput(state, [&](int n) {
    for (int i = 0; i < n; ++i) pool.Submit(Tick{&g_done});
  });
}

// ---------------------------------------------------------------------------
// rayon, in its own process (perf/rust): one row = one run of bench_rayon,
// which times `rounds` rounds itself and reports the median.

std::string rayon_binary() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "bench_rayon";
  std::string path(self, static_cast<std::size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "bench_rayon";
}

bool g_rayon_missing = false;

// Runs `bench_rayon workload W tasks rounds`; fills seconds and check, or
// returns an error message.
std::string run_rayon(const char* workload, int tasks, double& seconds, long& check) {
  const std::string bin = rayon_binary();
  if (access(bin.c_str(), X_OK) != 0) {
    g_rayon_missing = true;
    return "bench_rayon not built (needs cargo and librust-rayon-dev: ./tasklets.sh deps)";
  }
  const int rounds = settings().quick ? 5 : 20;
  const std::string cmd = bin + " " + workload + " " + std::to_string(settings().workers) + " " +
                          std::to_string(tasks) + " " + std::to_string(rounds);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "could not start " + bin;
  bool got_seconds = false, got_check = false;
  char line[256];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    got_seconds |= std::sscanf(line, "seconds %lf", &seconds) == 1;
    got_check |= std::sscanf(line, "check %ld", &check) == 1;
  }
  const int status = pclose(p);
  if (status != 0 || !got_seconds || !got_check) return cmd + " failed";
  return "";
}

void rayon_row(benchmark::State& state, const char* workload, int tasks, long expect) {
  for (auto _ : state) {
    double seconds = 0;
    long check = 0;
    const std::string error = run_rayon(workload, tasks, seconds, check);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      return;
    }
    if (check != expect) {
      const std::string message = std::string("rayon ") + workload + " answered " + std::to_string(check);
      state.SkipWithError(message.c_str());
      return;
    }
    state.SetIterationTime(seconds);
  }
  if (tasks > 0) state.SetItemsProcessed(state.iterations() * tasks);
}

void rayon_spawn(benchmark::State& state) { rayon_row(state, "single", settings().tasks, settings().tasks); }
void rayon_par_iter(benchmark::State& state) { rayon_row(state, "bulk", settings().tasks, settings().tasks); }

// ---------------------------------------------------------------------------
// 3. Wake-to-run latency into a parked pool.

constexpr auto kParkGap = std::chrono::milliseconds(2);

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// The libraries of the latency table, in its order; the last is the floor.
struct LatencyLine {
  const char* key;      // counter prefix
  const char* library;  // table label
};
constexpr LatencyLine kLatencyLines[] = {
    {"tasklets", "tasklets post"},
    {"tbb", "TBB task_arena::enqueue"},
    {"mutex", "mutex pool push + notify_one"},
    {"threadpool", "thread_pool Submit"},
    {"floor", "bare futex hand-off, one thread (the machine's floor, not a pool)"},
};
constexpr std::size_t kLatencyLibraries = std::size(kLatencyLines);

// One time-stamped task into one library; returns microseconds from just
// before the submission to the task's first instruction.
template <class Submit>
double latency_sample(Submit&& submit) {
  std::this_thread::sleep_for(kParkGap);
  g_probe.arm();
  const auto submitted = Clock::now();
  submit(bench::Stamp{&g_probe});
  return g_probe.wait_us_since(submitted);
}

void stamp_probe(void* probe) { bench::Stamp{static_cast<bench::LatencyProbe*>(probe)}(); }

// Every library lives for the whole benchmark, and the samples alternate
// between them (the first library of each round rotates), so that a drift
// of the machine's load hits all of them alike instead of whichever ran
// during it. One iteration = one sample of each library.
void latency_interleaved(benchmark::State& state) {
  tasklets::Pool pool(tasklets_config());
  tbb::task_arena arena = enqueue_arena();
  arena.initialize();
  bench::MutexPool mutex_pool(settings().workers);
  thread_pool::ThreadPool thread_pool(settings().workers);
  bench::FutexHandoff handoff;
  std::vector<double> samples[kLatencyLibraries];
  for (auto& v : samples) v.reserve(static_cast<std::size_t>(state.max_iterations));
  std::size_t round = 0;
  for (auto _ : state) {
    double total = 0;
    for (std::size_t k = 0; k < kLatencyLibraries; ++k) {
      const std::size_t lib = (round + k) % kLatencyLibraries;
      double us = 0;
      switch (lib) {
        case 0: us = latency_sample([&](bench::Stamp s) { pool.post(s); }); break;
        case 1: us = latency_sample([&](bench::Stamp s) { arena.enqueue(s); }); break;
        case 2: us = latency_sample([&](bench::Stamp s) { mutex_pool.push(s); }); break;
        case 3: us = latency_sample([&](bench::Stamp s) { thread_pool.Submit(s); }); break;
        default: us = latency_sample([&](bench::Stamp s) { handoff.post(stamp_probe, s.probe); }); break;
      }
      samples[lib].push_back(us);
      total += us;
    }
    ++round;
    state.SetIterationTime(total * 1e-6);
  }
  for (std::size_t lib = 0; lib < kLatencyLibraries; ++lib) {
    const std::string key = kLatencyLines[lib].key;
    state.counters[key + "_p50_us"] = percentile(samples[lib], 0.50);
    state.counters[key + "_p99_us"] = percentile(samples[lib], 0.99);
  }
}

// ---------------------------------------------------------------------------
// 4. Recursive fork-join: fib(30), sequential at and below the cutoff.

constexpr int kFibN = 30;
constexpr long kFib30 = 832'040;

long fib_seq(int n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }

long fib_tasklets(tasklets::Pool& pool, int n, int cutoff) {
  if (n <= cutoff) return fib_seq(n);
  auto left = pool.submit([&pool, n, cutoff] { return fib_tasklets(pool, n - 1, cutoff); });
  const long right = fib_tasklets(pool, n - 2, cutoff);
  return left.get() + right;
}

long fib_tbb(int n, int cutoff) {
  if (n <= cutoff) return fib_seq(n);
  long left = 0;
  tbb::task_group group;
  group.run([&left, n, cutoff] { left = fib_tbb(n - 1, cutoff); });
  const long right = fib_tbb(n - 2, cutoff);
  group.wait();
  return left + right;
}

// `fib()` computes fib(30) once.
template <class Fib>
void run_fib(benchmark::State& state, Fib&& fib) {
  long value = 0;
  for (auto _ : state) {
    value = fib();
    benchmark::DoNotOptimize(value);
  }
  if (value != kFib30) {
    const std::string message = "fib(30) returned " + std::to_string(value);
    state.SkipWithError(message.c_str());
  }
}

void fib_tasklets_bench(benchmark::State& state) {
  const int cutoff = static_cast<int>(state.range(0));
  tasklets::Pool pool(tasklets_config());
  run_fib(state, [&] { return pool.submit([&] { return fib_tasklets(pool, kFibN, cutoff); }).get(); });
  const PoolFigures f = pool_figures(pool);
  state.counters["pool_misses"] = static_cast<double>(f.misses);
  state.counters["pool_capacity"] = static_cast<double>(f.capacity);
}

void fib_tbb_bench(benchmark::State& state) {
  const int cutoff = static_cast<int>(state.range(0));
  tbb::task_arena arena = master_arena();
  run_fib(state, [&] { return arena.execute([&] { return fib_tbb(kFibN, cutoff); }); });
}

void fib_rayon_bench(benchmark::State& state) {
  const std::string workload = "fib" + std::to_string(state.range(0));
  rayon_row(state, workload.c_str(), 0, kFib30);
}

void fib_sequential(benchmark::State& state) {
  run_fib(state, [] { return fib_seq(kFibN); });
}

// ---------------------------------------------------------------------------
// 5. Heap allocations per task in steady state.

// Counts allocations (every thread) and task-pool misses between start() and
// finish(). stats() allocates, so it is read outside the counted window.
class AllocWindow {
 public:
  explicit AllocWindow(const tasklets::Pool& pool) : pool_(pool), before_(pool_figures(pool)) {
    g_news.store(0);
    g_mallocs.store(0);
    g_counting.store(true);
  }
  void finish(benchmark::State& state, int tasks) {
    g_counting.store(false);
    const double news = static_cast<double>(g_news.load());
    const double mallocs = static_cast<double>(g_mallocs.load());
    state.counters["heap_allocs_per_task"] = (news + mallocs) / tasks;
    state.counters["new_calls"] = news;
    state.counters["malloc_calls"] = mallocs;
    const PoolFigures after = pool_figures(pool_);
    state.counters["pool_misses"] = static_cast<double>(after.misses - before_.misses);
    state.counters["pool_capacity"] = static_cast<double>(after.capacity);
  }

 private:
  const tasklets::Pool& pool_;
  PoolFigures before_;
};

// `phase(n)` runs n tasks to completion and returns how many ran; it runs once
// to warm up, once counted.
template <class Phase>
void run_alloc(benchmark::State& state, tasklets::Pool& pool, Phase&& phase) {
  const int n = settings().alloc_tasks;
  for (auto _ : state) {
    state.PauseTiming();
    const std::int64_t warm = phase(n);
    state.ResumeTiming();
    AllocWindow window(pool);
    const std::int64_t counted = phase(n);
    window.finish(state, n);
    if (warm != n || counted != n) state.SkipWithError("a phase did not run exactly N tasks");
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// At most kWave tasks in flight, so the warm-up and the counted phase need
// the same working set: that is what "steady state" means here.
constexpr int kWave = 1000;

void alloc_tasklets_post(benchmark::State& state) {
  tasklets::Pool pool(tasklets_config());
  run_alloc(state, pool, [&](int n) {
    std::int64_t ran = 0;
    for (int done = 0; done < n; done += kWave) {
      const int k = std::min(kWave, n - done);
      g_done.reset(k);
      for (int i = 0; i < k; ++i) pool.post(Tick{&g_done});
      g_done.wait();
      ran += g_done.count();
    }
    return ran;
  });
}

// For contrast, not steady state: all N posted in one burst, so the backlog
// (and the memory it needs) depends on how far the workers lag this time.
void alloc_tasklets_post_burst(benchmark::State& state) {
  tasklets::Pool pool(tasklets_config());
  run_alloc(state, pool, [&](int n) {
    g_done.reset(n);
    for (int i = 0; i < n; ++i) pool.post(Tick{&g_done});
    g_done.wait();
    return g_done.count();
  });
}

// submit + get in rounds of kWave handles (the vector's storage is reused).
void alloc_tasklets_submit_get(benchmark::State& state) {
  tasklets::Pool pool(tasklets_config());
  std::vector<tasklets::Handle<void>> handles;
  handles.reserve(kWave);
  run_alloc(state, pool, [&](int n) {
    g_done.reset(n);
    for (int done = 0; done < n; done += kWave) {
      for (int i = 0; i < std::min(kWave, n - done); ++i) handles.push_back(pool.submit(Tick{&g_done}));
      for (auto& h : handles) h.get();
      handles.clear();
    }
    return g_done.count();
  });
}

struct Object128 {
  unsigned char bytes[128];
};

void new_delete_128(benchmark::State& state) {
  for (auto _ : state) {
    auto* p = new Object128;
    benchmark::DoNotOptimize(p);
    delete p;
  }
}

void malloc_free_128(benchmark::State& state) {
  for (auto _ : state) {
    void* p = std::malloc(128);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}

// ---------------------------------------------------------------------------
// Registration. Names are "workload/library"; the table looks them up.

using BenchFn = void (*)(benchmark::State&);

void add(const char* name, BenchFn fn, benchmark::TimeUnit unit = benchmark::kMillisecond) {
  benchmark::RegisterBenchmark(name, fn)->Unit(unit)->UseRealTime();
}

// A row whose time another process measured (rayon).
void add_manual(const char* name, BenchFn fn) {
  benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
}

void register_throughput() {
  add("single/tasklets_post", tasklets_post);
  add("single/tbb_arena_enqueue", tbb_enqueue);
  add("single/mutex_pool_push", mutex_push);
  add("single/threadpool_submit", threadpool_submit);
  add_manual("single/rayon_spawn", rayon_spawn);
  add("bulk/tasklets_post_batch", tasklets_post_batch);
  add("bulk/tasklets_parallel_for", tasklets_parallel_for);
  add("bulk/tbb_task_group_run", tbb_task_group);
  add("bulk/tbb_parallel_for_auto", tbb_parallel_for_auto);
  add("bulk/tbb_parallel_for_grain1", tbb_parallel_for_grain1);
  add("bulk/mutex_pool_push_bulk", mutex_push_bulk);
  add("bulk/threadpool_submit_loop", threadpool_submit);
  add_manual("bulk/rayon_par_iter", rayon_par_iter);
}

void add_latency(const char* name, BenchFn fn) {
  benchmark::RegisterBenchmark(name, fn)
      ->Unit(benchmark::kMicrosecond)
      ->UseManualTime()
      ->Iterations(settings().latency_samples);
}

void add_fib(const char* name, BenchFn fn, bool parallel) {
  auto* b = benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMillisecond)->UseRealTime();
  if (parallel) b->Arg(20)->Arg(12);
}

void add_alloc(const char* name, BenchFn fn) {
  benchmark::RegisterBenchmark(name, fn)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
}

void register_all() {
  register_throughput();
  add_latency("latency/interleaved", latency_interleaved);
  add_fib("fib30/tasklets_submit_get", fib_tasklets_bench, true);
  add_fib("fib30/tbb_task_group", fib_tbb_bench, true);
  benchmark::RegisterBenchmark("fib30/rayon_join", fib_rayon_bench)
      ->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1)->Arg(20)->Arg(12);
  add_fib("fib30/sequential", fib_sequential, false);
  add_alloc("alloc/tasklets_post", alloc_tasklets_post);
  add_alloc("alloc/tasklets_submit_get", alloc_tasklets_submit_get);
  add_alloc("alloc/tasklets_post_burst", alloc_tasklets_post_burst);
  add("alloc/new_delete_128", new_delete_128, benchmark::kNanosecond);
  add("alloc/malloc_free_128", malloc_free_128, benchmark::kNanosecond);
}

}  // namespace

// ---------------------------------------------------------------------------
// Results: collected through the console reporter, then one Markdown table.

namespace {

struct Result {
  double seconds = 0;  // real (or manual) time per iteration
  std::map<std::string, double> counters;
  std::string error;
};

// Prints as usual and keeps, per benchmark, the last plain run or, with
// --benchmark_repetitions, the median aggregate.
class Collector : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) record(r);
    ConsoleReporter::ReportRuns(runs);
  }
  const Result* find(const std::string& name) const {
    auto it = results_.find(name);
    return it == results_.end() || !it->second.error.empty() ? nullptr : &it->second;
  }

 private:
  void record(const Run& r) {
    if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") return;
    Result res;
    res.seconds = r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit);
    for (const auto& [key, counter] : r.counters) res.counters[key] = counter.value;
    if (r.error_occurred) res.error = r.error_message;
    const std::string& args = r.run_name.args;
    results_[r.run_name.function_name + (args.empty() ? "" : "/" + args)] = res;
  }
  std::map<std::string, Result> results_;
};

using Figure = std::optional<double>;

Figure counter(const Collector& c, const std::string& bench, const std::string& key) {
  const Result* r = c.find(bench);
  if (r == nullptr) return std::nullopt;
  auto it = r->counters.find(key);
  return it == r->counters.end() ? Figure() : Figure(it->second);
}

Figure mtasks(const Collector& c, const std::string& bench) {
  const Figure f = counter(c, bench, "items_per_second");
  return f ? Figure(*f / 1e6) : f;
}

Figure millis(const Collector& c, const std::string& bench) {
  const Result* r = c.find(bench);
  return r ? Figure(r->seconds * 1e3) : Figure();
}

std::string fmt(Figure f, const char* format = "%.2f") {
  if (!f) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, *f);
  return buf;
}

Figure ratio(Figure tasklets, Figure peer) {
  if (!tasklets || !peer || *peer == 0) return std::nullopt;
  return *tasklets / *peer;
}

struct Line {
  const char* library;
  const char* bench;
};

Figure larger(Figure a, Figure b) { return a && b ? Figure(std::max(*a, *b)) : (a ? a : b); }

// The highest figure among `lines` other than `ref`, and its library.
struct Best {
  Figure value;
  const char* library = "none";
};
Best best_other(const Collector& c, const char* ref, std::initializer_list<Line> lines, Figure (*figure)(const Collector&, const std::string&),
                bool higher_is_better) {
  Best best;
  for (const Line& l : lines) {
    if (std::strcmp(l.bench, ref) == 0 || std::strstr(l.bench, "/tasklets_") != nullptr) continue;
    const Figure f = figure(c, l.bench);
    if (!f) continue;
    if (!best.value || (higher_is_better ? *f > *best.value : *f < *best.value)) {
      best.value = f;
      best.library = l.library;
    }
  }
  return best;
}

void throughput_rows(const Collector& c, const char* workload, const char* ref, std::initializer_list<Line> lines) {
  for (const Line& l : lines) {
    const bool self = std::strcmp(l.bench, ref) == 0;
    std::printf("| %s | %s | %s | %s |\n", workload, l.library, fmt(mtasks(c, l.bench)).c_str(),
                self ? "1.00 (reference)" : fmt(ratio(mtasks(c, ref), mtasks(c, l.bench))).c_str());
  }
  // The headline: tasklets' best mode for the work against the others' best.
  Figure ours;
  for (const Line& l : lines) {
    if (std::strstr(l.bench, "/tasklets_") != nullptr) ours = larger(ours, mtasks(c, l.bench));
  }
  const Best best = best_other(c, ref, lines, mtasks, true);
  std::printf("| %s | **best of the others: %s** | %s | **%s (tasklets' best mode / it)** |\n", workload, best.library,
              fmt(best.value).c_str(), fmt(ratio(ours, best.value)).c_str());
}

constexpr std::initializer_list<Line> kSingleLines = {
    {"tasklets post", "single/tasklets_post"},
    {"TBB task_arena::enqueue", "single/tbb_arena_enqueue"},
    {"mutex pool push + notify_one", "single/mutex_pool_push"},
    {"thread_pool Submit (libthread-pool-dev)", "single/threadpool_submit"},
    {"rayon ThreadPool::spawn", "single/rayon_spawn"}};
// TBB's task_group loop and parallel_for with grain 1 are not its best bulk
// modes; they are shown, and left out of "best of the others" only by
// being slower.
constexpr std::initializer_list<Line> kBulkLines = {
    {"tasklets post_batch", "bulk/tasklets_post_batch"},
    {"tasklets parallel_for", "bulk/tasklets_parallel_for"},
    {"TBB task_group::run loop (no bulk API)", "bulk/tbb_task_group_run"},
    {"TBB parallel_for, auto partitioner (not N tasks)", "bulk/tbb_parallel_for_auto"},
    {"TBB parallel_for, grain 1, simple partitioner", "bulk/tbb_parallel_for_grain1"},
    {"mutex pool, one lock + notify_all", "bulk/mutex_pool_push_bulk"},
    {"thread_pool Submit loop (no bulk API)", "bulk/threadpool_submit_loop"},
    {"rayon par_iter for_each (not N tasks)", "bulk/rayon_par_iter"}};

void print_throughput(const Collector& c) {
  std::printf("\n### Empty-task throughput (%d tasks per iteration)\n\n", settings().tasks);
  std::printf("| workload | library | M tasks/s (higher is better) | tasklets / peer (>1: tasklets better) |\n");
  std::printf("| --- | --- | --- | --- |\n");
  throughput_rows(c, "single submission", "single/tasklets_post", kSingleLines);
  throughput_rows(c, "bulk submission", "bulk/tasklets_post_batch", kBulkLines);
}

void print_latency(const Collector& c) {
  std::printf("\n### Wake-to-run latency into a parked pool (%d samples each, %lld ms idle before each, "
              "libraries alternating)\n\n",
              settings().latency_samples, static_cast<long long>(kParkGap.count()));
  std::printf("| library | p50 us (lower is better) | p99 us (lower is better) | "
              "tasklets / peer p50 (<1: tasklets better) | tasklets / peer p99 (<1: tasklets better) |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  const std::string bench = "latency/interleaved";
  const Figure ref50 = counter(c, bench, "tasklets_p50_us"), ref99 = counter(c, bench, "tasklets_p99_us");
  for (const LatencyLine& l : kLatencyLines) {
    const std::string key = l.key;
    const Figure p50 = counter(c, bench, key + "_p50_us"), p99 = counter(c, bench, key + "_p99_us");
    const bool self = key == "tasklets";
    std::printf("| %s | %s | %s | %s | %s |\n", l.library, fmt(p50).c_str(), fmt(p99).c_str(),
                self ? "1.00 (reference)" : fmt(ratio(ref50, p50)).c_str(),
                self ? "1.00 (reference)" : fmt(ratio(ref99, p99)).c_str());
  }
  const Figure floor50 = counter(c, bench, "floor_p50_us");
  if (ref50 && floor50) {
    std::printf("\ntasklets p50 minus the bare hand-off: %.2f us (its own code on both sides: submit, queue, "
                "pick-up; and waking one of several parked threads instead of the only one).\n",
                *ref50 - *floor50);
  }
}

void print_fib(const Collector& c) {
  std::printf("\n### Recursive fork-join, fib(%d)\n\n", kFibN);
  std::printf("| sequential below | library | ms per fib(%d) (lower is better) | "
              "tasklets / peer (<1: tasklets better) |\n", kFibN);
  std::printf("| --- | --- | --- | --- |\n");
  for (const char* cutoff : {"20", "12"}) {
    const std::string ref = std::string("fib30/tasklets_submit_get/") + cutoff;
    const std::string tbb = std::string("fib30/tbb_task_group/") + cutoff;
    const std::string rayon = std::string("fib30/rayon_join/") + cutoff;
    const Figure t = millis(c, ref), b = millis(c, tbb), r = millis(c, rayon), s = millis(c, "fib30/sequential");
    std::printf("| fib(%s) | tasklets submit + get | %s | 1.00 (reference) |\n", cutoff, fmt(t).c_str());
    std::printf("| fib(%s) | TBB task_group | %s | %s |\n", cutoff, fmt(b).c_str(), fmt(ratio(t, b)).c_str());
    std::printf("| fib(%s) | rayon::join | %s | %s |\n", cutoff, fmt(r).c_str(), fmt(ratio(t, r)).c_str());
    std::printf("| fib(%s) | one thread, no tasks | %s | %s |\n", cutoff, fmt(s).c_str(), fmt(ratio(t, s)).c_str());
    std::printf("| fib(%s) | mutex pool, thread_pool | skipped: a blocking join inside their tasks deadlocks them | - |\n", cutoff);
    const Figure best = b && r ? Figure(std::min(*b, *r)) : (b ? b : r);
    std::printf("| fib(%s) | **best of the others: %s** | %s | **%s** |\n", cutoff,
                !best ? "none" : (b && *best == *b ? "TBB task_group" : "rayon::join"), fmt(best).c_str(),
                fmt(ratio(t, best)).c_str());
  }
  std::printf("\n");
  for (const char* cutoff : {"20", "12"}) {
    const std::string ref = std::string("fib30/tasklets_submit_get/") + cutoff;
    std::printf("- tasklets task pool after the fib(%s) runs: %s chunks carved, capacity %s task objects\n", cutoff,
                fmt(counter(c, ref, "pool_misses"), "%.0f").c_str(), fmt(counter(c, ref, "pool_capacity"), "%.0f").c_str());
  }
}

void print_alloc(const Collector& c) {
  std::printf("\n### Heap allocations per task in steady state (%d warm-up tasks, then %d counted)\n\n",
              settings().alloc_tasks, settings().alloc_tasks);
  std::printf("| path | heap allocs per task (lower is better) | task-pool chunk misses | ns per task or op (wall clock) |\n");
  std::printf("| --- | --- | --- | --- |\n");
  for (const Line& l : {Line{"tasklets post, rounds of 1k", "alloc/tasklets_post"},
                        Line{"tasklets submit + get, rounds of 1k", "alloc/tasklets_submit_get"},
                        Line{"tasklets post, one burst (not steady state, not a target)",
                             "alloc/tasklets_post_burst"}}) {
    const Figure ips = counter(c, l.bench, "items_per_second");
    std::printf("| %s | %s | %s | %s |\n", l.library, fmt(counter(c, l.bench, "heap_allocs_per_task"), "%.3g").c_str(),
                fmt(counter(c, l.bench, "pool_misses"), "%.0f").c_str(),
                fmt(ips ? Figure(1e9 / *ips) : ips, "%.1f").c_str());
  }
  for (const Line& l : {Line{"new + delete, 128 B", "alloc/new_delete_128"},
                        Line{"malloc + free, 128 B", "alloc/malloc_free_128"}}) {
    const Figure ms = millis(c, l.bench);
    std::printf("| %s | 1 | - | %s |\n", l.library, fmt(ms ? Figure(*ms * 1e6) : ms, "%.1f").c_str());
  }
}

const char* verdict(Figure f, bool (*ok)(double)) { return !f ? "n/a " : ok(*f) ? "PASS" : "MISS"; }

Figure ns_per_task(const Collector& c, const std::string& bench) {
  const Figure ips = counter(c, bench, "items_per_second");
  return ips && *ips > 0 ? Figure(1e9 / *ips) : Figure();
}

// The targets of the issue that asked for this lab: every ratio from this
// one run.
void print_targets(const Collector& c) {
  const Figure post = mtasks(c, "single/tasklets_post");
  const Figure vs_mutex = ratio(post, mtasks(c, "single/mutex_pool_push"));
  const Figure vs_enqueue = ratio(post, mtasks(c, "single/tbb_arena_enqueue"));
  const Figure bulk_best = larger(mtasks(c, "bulk/tbb_parallel_for_auto"), mtasks(c, "bulk/rayon_par_iter"));
  const Figure bulk = ratio(larger(mtasks(c, "bulk/tasklets_post_batch"), mtasks(c, "bulk/tasklets_parallel_for")), bulk_best);
  const Figure fib = ratio(millis(c, "fib30/tasklets_submit_get/12"), millis(c, "fib30/tbb_task_group/12"));
  const Figure fib_rayon = ratio(millis(c, "fib30/tasklets_submit_get/12"), millis(c, "fib30/rayon_join/12"));
  const Figure post_ns = ns_per_task(c, "alloc/tasklets_post");
  const Figure submit_ns = ns_per_task(c, "alloc/tasklets_submit_get");
  const Figure p50 = counter(c, "latency/interleaved", "tasklets_p50_us");
  const Figure floor50 = counter(c, "latency/interleaved", "floor_p50_us");
  Figure allocs = std::max(counter(c, "alloc/tasklets_post", "heap_allocs_per_task"),
                           counter(c, "alloc/tasklets_submit_get", "heap_allocs_per_task"));
  const Figure misses = std::max(counter(c, "alloc/tasklets_post", "pool_misses"),
                                 counter(c, "alloc/tasklets_submit_get", "pool_misses"));
  if (allocs && misses) allocs = *allocs + *misses;  // both must be zero
  std::printf("\n### Targets\n\n");
  std::printf("- %s single submissions from outside >= 1.5x the mutex pool: %sx\n",
              verdict(vs_mutex, [](double r) { return r >= 1.5; }), fmt(vs_mutex).c_str());
  std::printf("- %s single submissions from outside >= 2x TBB task_arena::enqueue: %sx\n",
              verdict(vs_enqueue, [](double r) { return r >= 2; }), fmt(vs_enqueue).c_str());
  std::printf("- %s bulk >= 1.2x the best of TBB parallel_for (auto) and rayon par_iter: %sx\n",
              verdict(bulk, [](double r) { return r >= 1.2; }), fmt(bulk).c_str());
  std::printf("- %s fine-grained fork-join, fib(30) below 12: <= 0.8x TBB task_group's time: %sx\n",
              verdict(fib, [](double r) { return r <= 0.8; }), fmt(fib).c_str());
  std::printf("- %s fine-grained fork-join, fib(30) below 12: below rayon::join's time: %sx\n",
              verdict(fib_rayon, [](double r) { return r < 1; }), fmt(fib_rayon).c_str());
  std::printf("- %s steady-state post <= 80 ns (rounds of 1k, wall clock per task): %s ns\n",
              verdict(post_ns, [](double v) { return v <= 80; }), fmt(post_ns, "%.1f").c_str());
  std::printf("- %s steady-state submit + get <= 150 ns: %s ns\n",
              verdict(submit_ns, [](double v) { return v <= 150; }), fmt(submit_ns, "%.1f").c_str());
  const Figure wake = ratio(p50, floor50);
  std::printf("- %s p50 wake-to-run latency within 1.5x the bare futex hand-off: %sx (%s us against %s us)\n",
              verdict(wake, [](double r) { return r <= 1.5; }), fmt(wake).c_str(), fmt(p50).c_str(), fmt(floor50).c_str());
  std::printf("- %s zero heap allocations per task in steady state (post and submit + get, "
              "task-pool misses included): allocs + misses = %s\n",
              verdict(allocs, [](double v) { return v == 0; }), fmt(allocs, "%.3g").c_str());
}

// Quick mode shortens the default --benchmark_min_time unless one was given.
std::vector<char*> arguments(int argc, char** argv) {
  static char quick_min_time[] = "--benchmark_min_time=0.1";
  std::vector<char*> args(argv, argv + argc);
  const bool given = std::any_of(args.begin(), args.end(),
                                 [](const char* a) { return std::strncmp(a, "--benchmark_min_time", 20) == 0; });
  if (settings().quick && !given) args.push_back(quick_min_time);
  args.push_back(nullptr);
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = arguments(argc, argv);
  int n = static_cast<int>(args.size()) - 1;
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  // max_allowed_parallelism counts one external thread: W + 1 lets TBB run W
  // workers in the enqueue arena; each arena still caps its own concurrency at W.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, settings().workers + 1);
  std::printf("workers: %u%s\n", settings().workers, settings().quick ? " (quick mode)" : "");
  register_all();
  Collector collector(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
                                           : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&collector);
  print_throughput(collector);
  print_latency(collector);
  print_fib(collector);
  print_alloc(collector);
  print_targets(collector);
  benchmark::Shutdown();
  if (g_rayon_missing && !settings().quick) {
    std::fprintf(stderr, "bench_core: rayon's rows are missing (bench_rayon not built); a full run needs them\n");
    return 3;
  }
  return 0;
}
