#include "pool_registry.h"

#include <algorithm>
#include <map>
#include <thread>

namespace tasklets_addon {

using tasklets::detail::TaskBase;

// ---------------------------------------------------------------- slots

void SlotState::notify(void* self) noexcept {
  auto* s = static_cast<SlotState*>(self);
  std::shared_ptr<SafeTsfn> wake;
  {
    std::lock_guard lock(s->mutex);
    wake = s->wake;
  }
  if (wake) wake->call(nullptr);
}

SlotState& PoolState::slot(unsigned index) {
  std::lock_guard lock(slots_mutex_);
  auto& p = slots_[index];
  if (!p) p = std::make_unique<SlotState>();
  return *p;
}

std::vector<unsigned> PoolState::requested_slots() {
  std::vector<unsigned> out;
  std::lock_guard lock(slots_mutex_);
  for (auto& [index, s] : slots_) {
    std::lock_guard slot_lock(s->mutex);
    if (s->phase == SlotState::Phase::requested) out.push_back(index);
  }
  return out;
}

bool PoolState::any_attached() {
  std::lock_guard lock(slots_mutex_);
  return std::any_of(slots_.begin(), slots_.end(), [](auto& entry) {
    std::lock_guard slot_lock(entry.second->mutex);
    return entry.second->phase == SlotState::Phase::attached;
  });
}

// ---------------------------------------------------------------- completions

void PoolState::on_task_complete(void* self, TaskBase& t) noexcept {
  auto* s = static_cast<PoolState*>(self);
  tasklets::detail::retain(t);  // the list's reference, dropped by the drain
  JsCall& c = js_call(t);
  // A task settled without running (cancelled, timed out) still owns the
  // memory transferred to it (a task that ran gave it to its executor), or
  // holds its arguments inline over the link; the link becomes the
  // completion list's.
  if (args_inline(c)) {
    free_payload_bytes(c);
  } else {
    free_unrun_transfers(c);
  }
  TaskBase* head = s->done_head.load(std::memory_order_relaxed);
  do {
    c.link.next = head;
  } while (!s->done_head.compare_exchange_weak(head, &t, std::memory_order_seq_cst, std::memory_order_relaxed));
  // seq_cst pairs with take_completed(): either the drain that cleared the
  // flag sees this task, or this exchange sees the flag cleared and asks
  // for another drain. Never once per task while a drain is pending.
  if (!s->drain_scheduled.exchange(true, std::memory_order_seq_cst)) {
    if (s->on_completions) s->on_completions->call(nullptr);
  }
}

std::vector<TaskBase*> PoolState::take_completed() {
  drain_scheduled.store(false, std::memory_order_seq_cst);
  TaskBase* t = done_head.exchange(nullptr, std::memory_order_seq_cst);
  std::vector<TaskBase*> out;
  for (; t; t = js_call(*t).link.next) {
    out.push_back(t);
    tasks.erase(js_call(*t).id);
  }
  std::reverse(out.begin(), out.end());
  if (!out.empty()) unhold_functions(out);
  return out;
}

void PoolState::release_unrun_arguments(JsCall& c) noexcept {
  if (c.result_kind == ResultKind::kNone && c.inline_tag == kNotInline && c.data.bytes) {
    argument_bytes.fetch_sub(c.length, std::memory_order_relaxed);
  }
  free_payload_bytes(c);
}

void discard_completions(PoolState& state) noexcept {
  state.tasks.clear();
  TaskBase* t = state.done_head.exchange(nullptr, std::memory_order_seq_cst);
  while (t) {
    TaskBase* next = js_call(*t).link.next;
    state.release_unrun_arguments(js_call(*t));
    tasklets::detail::release(*t);
    t = next;
  }
}

PoolState::~PoolState() {
  if (on_completions) on_completions->release();
  if (start_executor) start_executor->release();
  if (pool) {
    try {
      pool->shutdown(tasklets::ShutdownMode::cancel, std::chrono::milliseconds(0));
    } catch (...) {
      // Already shut down or called from a pool thread: the destructor copes.
    }
    discard_completions(*this);
    pool.reset();
  }
}

// ---------------------------------------------------------------- async tasks

void PoolState::begin_async() noexcept {
  std::lock_guard lock(async_mutex_);
  ++in_flight_;
}

void PoolState::end_async() noexcept {
  std::lock_guard lock(async_mutex_);
  if (--in_flight_ == 0) async_cv_.notify_all();
}

bool PoolState::wait_async(std::chrono::milliseconds timeout) noexcept {
  std::unique_lock lock(async_mutex_);
  auto idle = [&] { return in_flight_ == 0; };
  if (timeout == std::chrono::milliseconds::max()) {
    async_cv_.wait(lock, idle);
    return true;
  }
  return async_cv_.wait_for(lock, timeout, idle);
}

// ---------------------------------------------------------------- functions

std::uint32_t PoolState::register_function(const std::string& source) {
  std::lock_guard lock(functions_mutex_);
  if (auto it = function_ids_.find(source); it != function_ids_.end()) {
    functions_.at(it->second).held = true;
    return it->second;
  }
  // After 2^32 registrations the ids wrap: skip those still in use.
  while (functions_.count(next_function_id_)) ++next_function_id_;
  const std::uint32_t id = next_function_id_++;
  auto entry = functions_.try_emplace(id, FunctionEntry{source}).first;
  try {
    function_ids_.emplace(std::string_view(entry->second.source), id);
  } catch (...) {
    functions_.erase(entry);
    throw;
  }
  return id;
}

std::optional<std::string> PoolState::function_source(std::uint32_t id) {
  std::lock_guard lock(functions_mutex_);
  auto it = functions_.find(id);
  if (it == functions_.end()) return std::nullopt;
  return it->second.source;
}

void PoolState::drop_if_unused(std::unordered_map<std::uint32_t, FunctionEntry>::iterator it) {
  if (it->second.held || it->second.tasks != 0) return;
  function_ids_.erase(std::string_view(it->second.source));
  functions_.erase(it);
}

void PoolState::release_functions(const std::uint32_t* ids, std::size_t count) {
  std::lock_guard lock(functions_mutex_);
  for (std::size_t i = 0; i < count; ++i) {
    auto it = functions_.find(ids[i]);
    if (it == functions_.end()) continue;
    it->second.held = false;
    drop_if_unused(it);
  }
}

// Runs of one function (the common case: runAll, map, a loop of run())
// cost one lookup.
void PoolState::hold_functions(const JsCall* calls, std::size_t count) {
  std::lock_guard lock(functions_mutex_);
  for (std::size_t i = 0; i < count;) {
    std::size_t end = i + 1;
    while (end < count && calls[end].fn == calls[i].fn) ++end;
    auto it = functions_.find(calls[i].fn);
    if (it != functions_.end()) it->second.tasks += static_cast<std::uint32_t>(end - i);
    i = end;
  }
}

void PoolState::unhold_functions(const std::vector<TaskBase*>& drained) {
  std::lock_guard lock(functions_mutex_);
  for (std::size_t i = 0; i < drained.size();) {
    const std::uint32_t fn = js_call(*drained[i]).fn;
    std::size_t end = i + 1;
    while (end < drained.size() && js_call(*drained[end]).fn == fn) ++end;
    auto it = functions_.find(fn);
    if (it != functions_.end()) {
      it->second.tasks -= static_cast<std::uint32_t>(end - i);
      drop_if_unused(it);
    }
    i = end;
  }
}

std::size_t PoolState::function_count() {
  std::lock_guard lock(functions_mutex_);
  return functions_.size();
}

// ---------------------------------------------------------------- hosting

void JsHost::start(unsigned slot) {
  std::shared_ptr<PoolState> s = state_.lock();
  if (!s) return;  // the pool is being destroyed
  {
    SlotState& st = s->slot(slot);
    std::lock_guard lock(st.mutex);
    st.phase = SlotState::Phase::requested;
  }
  if (s->start_executor &&
      s->start_executor->call(reinterpret_cast<void*>(static_cast<std::uintptr_t>(slot)))) {
    return;
  }
  // The owner's loop is gone or closing. The runtime handles a host that
  // cannot start a thread: the constructor fails, a grow is retried later,
  // a replacement is given up; the slot stays unserved.
  {
    SlotState& st = s->slot(slot);
    std::lock_guard lock(st.mutex);
    st.phase = SlotState::Phase::idle;
  }
  throw tasklets::Error(tasklets::Errc::system, "cannot ask JavaScript for an executor: its event loop is closing");
}

void JsHost::interrupt(unsigned slot, TaskBase& task, tasklets::TaskStatus why) noexcept {
  std::shared_ptr<PoolState> s = state_.lock();
  if (!s) return;
  try {
    interrupt_executor(s->slot(slot), task, why);
  } catch (...) {
    // No memory for the slot record: the task runs to its end.
  }
}

void abandon_slot(const std::shared_ptr<PoolState>& state, unsigned slot) {
  state->pool->abandon_slot(slot);
  SlotState& st = state->slot(slot);
  std::lock_guard lock(st.mutex);
  if (st.phase == SlotState::Phase::requested) st.phase = SlotState::Phase::idle;
}

// ---------------------------------------------------------------- registry

namespace registry {
namespace {

// The final figures of this many pools shut down last are kept: a process
// that creates and shuts down pools without end must not keep each one's
// (js/pool.js keeps its own pool's copy for getStats()).
constexpr std::size_t kRetiredKept = 64;

struct Registry {
  std::mutex mutex;
  std::unordered_map<std::uint32_t, std::shared_ptr<PoolState>> pools;
  std::map<std::uint32_t, tasklets::PoolStats> retired;  // by id: the oldest first
  std::atomic<std::uint32_t> next_id{1};
};

// Never destroyed: pools may outlive static destruction at process exit
// (their threads keep running until _exit), and must not be torn down then.
Registry& the() {
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

std::uint32_t next_id() noexcept { return the().next_id.fetch_add(1, std::memory_order_relaxed); }

void insert(std::shared_ptr<PoolState> state) {
  Registry& r = the();
  std::lock_guard lock(r.mutex);
  const std::uint32_t id = state->id;
  r.pools.emplace(id, std::move(state));
}

std::shared_ptr<PoolState> find(std::uint32_t id) {
  Registry& r = the();
  std::lock_guard lock(r.mutex);
  auto it = r.pools.find(id);
  return it == r.pools.end() ? nullptr : it->second;
}

void retire(std::uint32_t id, tasklets::PoolStats final_stats) {
  Registry& r = the();
  std::shared_ptr<PoolState> dropped;  // destroyed outside the lock
  std::lock_guard lock(r.mutex);
  r.retired.insert_or_assign(id, std::move(final_stats));
  while (r.retired.size() > kRetiredKept) r.retired.erase(r.retired.begin());
  auto it = r.pools.find(id);
  if (it != r.pools.end()) {
    dropped = std::move(it->second);
    r.pools.erase(it);
  }
}

bool was_created(std::uint32_t id) noexcept {
  return id != 0 && id < the().next_id.load(std::memory_order_relaxed);
}

std::optional<tasklets::PoolStats> final_stats(std::uint32_t id) {
  Registry& r = the();
  std::lock_guard lock(r.mutex);
  auto it = r.retired.find(id);
  if (it == r.retired.end()) return std::nullopt;
  return it->second;
}

}  // namespace registry
}  // namespace tasklets_addon
