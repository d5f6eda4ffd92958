// Pool forwards to the Scheduler; it exists so that the public header does
// not expose the scheduler's internals (moodycamel, hwloc, jemalloc).
#include "tasklets/pool.hpp"

#include <algorithm>

#include "scheduler.hpp"

namespace tasklets {

using detail::TaskBase;

Pool::Pool(const PoolConfig& config, std::shared_ptr<WorkerHost> host)
    : scheduler_(std::make_unique<Scheduler>(config, std::move(host))) {}
Pool::~Pool() = default;

TaskBase* Pool::acquire(const SubmitOptions& options, bool handle) {
  return scheduler_->acquire(options, handle);
}

void Pool::discard(TaskBase* t) noexcept { scheduler_->discard(t); }
void Pool::discard_constructed(TaskBase* t) noexcept { scheduler_->discard_constructed(t); }
void Pool::enqueue(TaskBase* t) { scheduler_->enqueue(t); }
void Pool::enqueue_bulk(TaskBase* const* ts, std::size_t n) { scheduler_->enqueue_bulk(ts, n); }
void Pool::check_dependencies(Dependencies a, Dependencies b) const { scheduler_->check_dependencies(a, b); }
void Pool::enqueue_after(TaskBase* t, Dependencies a, Dependencies b) { scheduler_->enqueue_after(t, a, b); }
ShutdownReport Pool::shutdown(ShutdownMode mode, std::chrono::milliseconds timeout) {
  return scheduler_->shutdown(mode, timeout);
}
PoolStats Pool::stats() const { return scheduler_->stats(); }
void Pool::resize(const WorkersConfig& workers) { scheduler_->resize(workers); }
bool Pool::abandon_slot(unsigned slot) noexcept { return scheduler_->abandon_slot(slot); }
const ResolvedConfig& Pool::config() const noexcept { return scheduler_->config(); }
bool Pool::accepting() const noexcept { return scheduler_->accepting(); }
unsigned Pool::active_workers() const noexcept { return scheduler_->active_workers(); }

}  // namespace tasklets
