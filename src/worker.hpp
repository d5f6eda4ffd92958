// One worker slot: its inbox, its parker, its counters and its thread.
// Slots for worker_slots (default: max_workers) exist from the start, more
// are added when Pool::resize grows past them, and none ever moves; threads
// come and go with scaling and Pool::resize. A slot without a thread keeps its queue, and
// the other workers steal from it (docs/architecture.md, "Scaling").
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "queue.hpp"
#include "sleep.hpp"
#include "thread_cpu.hpp"
#include "tasklets/affinity.hpp"
#include "tasklets/metrics.hpp"
#include "tasklets/placement.hpp"
#include "tasklets/task_pool.hpp"

namespace tasklets {
class Scheduler;
}

namespace tasklets::detail {

struct alignas(64) Worker {
  Worker(unsigned id, WorkerPlacement placement, const std::vector<unsigned>* steal_order);

  const unsigned id;
  const WorkerPlacement placement;
  // The other slots, same node first. Replaced (never changed in place) when
  // the pool grows; the scheduler keeps every order it made until it is
  // destroyed, so a reader may go on with the one it loaded.
  std::atomic<const std::vector<unsigned>*> steal_order;
  const std::vector<unsigned>& victims() const noexcept { return *steal_order.load(std::memory_order_acquire); }

  TaskQueue queue;
  Parker parker;
  WorkerCounters counters;
  LatencyHistogram queue_wait;
  LatencyHistogram run_time;
  LatencyHistogram task_cpu;  // per task, with ResolvedConfig::task_cpu_time
  SlotCpuClock cpu;           // of the threads serving this slot

  // --- touched only by the thread serving this slot ---
  TaskPool::Cache cache;               // of the pool of placement.numa
  std::unique_ptr<TaskQueue::OwnerTokens> tokens;  // made on the worker thread
  unsigned picks = 0;                  // for low-priority aging
  std::int64_t last_ns = 0;            // end of the previous task: start of the next

  // --- control ---
  // Slot control word. kIdle -> kServe when a thread starts; kServe ->
  // kRetire when the scaler shrinks; the worker alone moves kRetire ->
  // kLeaving (CAS) once its own queue is empty, and the scaler may take a
  // retire back (CAS kRetire -> kServe) instead of starting a new thread.
  // kLeaving -> kExited is the worker's very last write to the slot: after
  // it, shutdown may destroy the pool and the scaler may reuse the slot.
  static constexpr std::uint32_t kIdle = 0, kServe = 1, kRetire = 2, kLeaving = 3, kExited = 4;
  bool serving() const noexcept {
    const std::uint32_t c = control.load(std::memory_order_acquire);
    return c == kServe || c == kRetire || c == kLeaving;
  }
  alignas(64) std::atomic<std::uint32_t> control{kIdle};
  // A served slot is claimed once, by the thread that attaches to it or by
  // Pool::abandon_slot when that thread will never come (CAS false -> true);
  // cleared by finish_leave.
  std::atomic<bool> claimed{false};
  std::atomic<std::uint64_t> max_wait_ns{0};    // largest queue wait since the scaler last looked
  std::thread thread;

  mutable std::mutex bind_mutex;  // guards bind (written once per thread start)
  BindResult bind{false, "not started"};
  std::vector<unsigned> bound_os_pus;
};

// The slots a scheduler has published, for range-for: a snapshot of the
// count; each record is loaded with acquire, pairing with its publication.
class SlotView {
 public:
  class iterator {
   public:
    explicit iterator(std::atomic<Worker*>* p) noexcept : p_(p) {}
    Worker* operator*() const noexcept { return p_->load(std::memory_order_acquire); }
    iterator& operator++() noexcept {
      ++p_;
      return *this;
    }
    bool operator!=(const iterator& other) const noexcept { return p_ != other.p_; }

   private:
    std::atomic<Worker*>* p_;
  };
  SlotView(std::atomic<Worker*>* first, unsigned count) noexcept : first_(first), count_(count) {}
  iterator begin() const noexcept { return iterator(first_); }
  iterator end() const noexcept { return iterator(first_ + count_); }

 private:
  std::atomic<Worker*>* first_;
  unsigned count_;
};

// The body of a worker thread (worker.cpp).
void worker_main(Scheduler& scheduler, Worker& self) noexcept;
// Binds the calling thread per the slot's placement and its node's arena;
// records the outcome in self.bind.
void pin(Scheduler& scheduler, Worker& self) noexcept;

}  // namespace tasklets::detail
