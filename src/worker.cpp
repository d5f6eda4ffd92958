#include "worker.hpp"

#include <sched.h>

#include "scheduler.hpp"
#include "tasklets/topology.hpp"

namespace tasklets::detail {

Worker::Worker(unsigned id_, WorkerPlacement placement_, const std::vector<unsigned>* steal_order_)
    : id(id_), placement(std::move(placement_)), steal_order(steal_order_) {}

void pin(Scheduler& s, Worker& self) noexcept {
  BindResult r{false, "no binding requested"};
  if (!self.placement.pus.empty()) r = bind_current_thread(s.topology(), self.placement.pus);
  std::vector<unsigned> os;
  try {
    os = current_thread_binding(s.topology());
  } catch (...) {
    // A binding we cannot read back is reported as "not pinned" below.
    r.pinned = false;
  }
  {
    std::lock_guard lock(self.bind_mutex);
    self.bind = std::move(r);
    self.bound_os_pus = std::move(os);
  }
  try {
    s.arenas().bind_current_thread(self.placement.numa);
  } catch (...) {
    // The thread keeps jemalloc's default arena: slower locality, same results.
  }
}

namespace {

// Spin, then yield, then park. Returns when there may be work or the worker
// should look at its exit condition again.
void idle(Scheduler& s, Worker& self, unsigned& rounds) noexcept {
  const ResolvedConfig& c = s.config();
  if (rounds < c.spin_rounds) {
    ++rounds;
    cpu_relax();
    return;
  }
  if (rounds < c.spin_rounds + c.yield_rounds) {
    ++rounds;
    sched_yield();
    return;
  }
  rounds = 0;
  SleepCoordinator& sc = s.sleep();
  sc.prepare(self.parker);
  // The re-check of the protocol (sleep.hpp): after the fence in prepare().
  if (s.any_queued() || s.should_exit(self)) {
    sc.cancel(self.parker);
    return;
  }
  WorkerCounters::add(self.counters.parked);
  sc.sleep(self.parker);
  WorkerCounters::add(self.counters.woken);
}

}  // namespace

void worker_main(Scheduler& s, Worker& self) noexcept {
  pin(s, self);
  self.cpu.bind_current();
  self.tokens = std::make_unique<TaskQueue::OwnerTokens>(self.queue);
  self.last_ns = 0;
  unsigned rounds = 0;
  for (;;) {
    if (TaskBase* t = s.find_task(self)) {
      s.execute(self, t);
      rounds = 0;
      continue;
    }
    if (s.should_exit(self) && s.leave(self)) break;
    self.last_ns = 0;  // the next task's start is not this task's end
    idle(s, self, rounds);
  }
  s.finish_leave(self);
}

}  // namespace tasklets::detail
