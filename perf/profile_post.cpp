// profile_post: a fixed run of the submission paths, for instruction counts
// under callgrind (perf/profile_post.sh runs it and splits the cost of one
// `post` into its parts). Not a timing benchmark: bench_core is.
//
//   profile_post [post|submit_get|fork] [tasks]
//
// post:       the calling thread posts `tasks` empty tasks to a pool of one
//             worker, in rounds of 1000 that it waits for (steady state:
//             the task objects and queue blocks are reused).
// submit_get: the same with submit + get of each round's handles.
// fork:       one task that posts `tasks` children from inside the pool.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_baselines.hpp"
#include "tasklets/pool.hpp"

namespace {

constexpr int kRound = 1000;

void rounds(int tasks, auto&& round) {
  for (int done = 0; done < tasks; done += kRound) round(std::min(kRound, tasks - done));
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "post";
  const int tasks = argc > 2 ? std::atoi(argv[2]) : 100'000;
  tasklets::PoolConfig config;
  config.workers.min = config.workers.max = 1;
  tasklets::Pool pool(config);
  bench::Countdown done;
  auto post_round = [&](int k) {
    done.reset(k);
    for (int i = 0; i < k; ++i) pool.post(bench::Tick{&done});
    done.wait();
  };
  std::vector<tasklets::Handle<void>> handles;
  handles.reserve(kRound);
  auto submit_round = [&](int k) {
    done.reset(k);
    for (int i = 0; i < k; ++i) handles.push_back(pool.submit(bench::Tick{&done}));
    for (auto& h : handles) h.get();
    handles.clear();
  };
  auto fork_round = [&](int k) {
    done.reset(k);
    pool.post([&pool, &done, k] {
      for (int i = 0; i < k; ++i) pool.post(bench::Tick{&done});
    });
    done.wait();
  };
  if (std::strcmp(mode, "post") == 0) {
    rounds(tasks, post_round);  // warm-up: the same working set as below
    rounds(tasks, post_round);
  } else if (std::strcmp(mode, "submit_get") == 0) {
    rounds(tasks, submit_round);
    rounds(tasks, submit_round);
  } else if (std::strcmp(mode, "fork") == 0) {
    rounds(tasks, fork_round);
    rounds(tasks, fork_round);
  } else {
    std::fprintf(stderr, "usage: profile_post [post|submit_get|fork] [tasks]\n");
    return 2;
  }
  std::printf("%s: %d tasks, twice\n", mode, tasks);
  return 0;
}
