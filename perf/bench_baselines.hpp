// Shared pieces of bench_core.cpp: the completion counter every throughput
// task bumps, the probe the latency task stamps, the plain
// mutex + condition_variable pool used as the "no cleverness" baseline, and
// the bare futex hand-off that measures the machine's wake-up floor.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace bench {

// Counts task completions. The task that makes the count reach the target
// raises `done_` and wakes the waiter, so the waiter sleeps instead of
// spinning on a core the workers need (the machine has 2).
// Lives for the whole program: the last task may still be inside
// notify_one() after the waiter has returned.
class Countdown {
 public:
  // Must happen-before the first hit (it does: the submission publishes it).
  void reset(std::int64_t target) noexcept {
    target_ = target;
    count_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_release);
  }
  void hit() noexcept {
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == target_) {
      done_.store(1, std::memory_order_release);
      done_.notify_one();
    }
  }
  void wait() const noexcept {
    while (done_.load(std::memory_order_acquire) == 0) done_.wait(0, std::memory_order_acquire);
  }
  std::int64_t count() const noexcept { return count_.load(std::memory_order_acquire); }

 private:
  alignas(64) std::atomic<std::int64_t> count_{0};
  alignas(64) std::atomic<int> done_{0};
  std::int64_t target_ = 0;
};

// The one task body of every throughput and allocation benchmark, in every
// library: bump the shared counter. Trivially copyable, 8 bytes, so it fits
// inline in a tasklets task and in std::function's small buffer.
struct Tick {
  Countdown* counter;
  void operator()() const noexcept { counter->hit(); }
};

// Wake-to-run probe: the task stamps steady_clock the moment it starts.
class LatencyProbe {
 public:
  using Clock = std::chrono::steady_clock;
  void arm() noexcept { ran_.store(0, std::memory_order_relaxed); }
  void stamp() noexcept {
    started_ = Clock::now();
    ran_.store(1, std::memory_order_release);
    ran_.notify_one();
  }
  // Microseconds from `submitted` to the task's start.
  double wait_us_since(Clock::time_point submitted) const noexcept {
    while (ran_.load(std::memory_order_acquire) == 0) ran_.wait(0, std::memory_order_acquire);
    return std::chrono::duration<double, std::micro>(started_ - submitted).count();
  }

 private:
  Clock::time_point started_{};
  std::atomic<int> ran_{0};
};

struct Stamp {
  LatencyProbe* probe;
  void operator()() const noexcept { probe->stamp(); }
};

// The textbook pool: one deque under one mutex, one condition variable,
// notify_one per single push, notify_all after a bulk push. No spinning.
class MutexPool {
 public:
  explicit MutexPool(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  ~MutexPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }
  MutexPool(const MutexPool&) = delete;
  MutexPool& operator=(const MutexPool&) = delete;

  void push(std::function<void()> fn) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(fn));
    }
    ready_.notify_one();
  }
  template <class F>
  void push_bulk(std::span<F> fns) {
    {
      std::lock_guard lock(mutex_);
      for (const F& f : fns) queue_.emplace_back(f);
    }
    ready_.notify_all();
  }

 private:
  // Drains the queue before honouring stop_, so the destructor never drops work.
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::function<void()> fn = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// The least a parked thread can cost to wake: one thread asleep in
// FUTEX_WAIT on one word, a submitter that stores the task, flips the word
// and calls FUTEX_WAKE. No queue, no pool, one task at a time. A pool's
// wake-to-run latency minus this is what the pool itself adds; this alone
// is what the machine (its kernel, its hypervisor) charges.
class FutexHandoff {
 public:
  FutexHandoff() : thread_([this] { run(); }) {}
  ~FutexHandoff() {
    post(nullptr);
    thread_.join();
  }
  FutexHandoff(const FutexHandoff&) = delete;
  FutexHandoff& operator=(const FutexHandoff&) = delete;

  // One task at a time: the previous one must have run (the latency probe
  // guarantees it). A null task stops the thread.
  void post(void (*fn)(void*), void* arg = nullptr) noexcept {
    fn_ = fn;
    arg_ = arg;
    word_.store(1, std::memory_order_release);
    syscall(SYS_futex, &word_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }

 private:
  void run() noexcept {
    for (;;) {
      while (word_.load(std::memory_order_acquire) == 0) {
        syscall(SYS_futex, &word_, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
      }
      word_.store(0, std::memory_order_relaxed);
      if (fn_ == nullptr) return;
      fn_(arg_);
    }
  }

  void (*fn_)(void*) = nullptr;
  void* arg_ = nullptr;
  alignas(64) std::atomic<std::uint32_t> word_{0};
  std::thread thread_;
};

}  // namespace bench
