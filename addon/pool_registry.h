// Process-wide registry of the pools the addon created, keyed by pool id, so
// that an executor (another isolate, same process) finds the pool its main
// thread made. A PoolState bundles one tasklets::Pool with what the binding
// needs around it: the function table, the completion list, the thread-safe
// functions into the owner's event loop and the per-slot wake channels.
//
// Lifetime: the registry holds a PoolState until its shutdown has been
// delivered to JS (or forever, if its env goes away while executors still
// serve it); executors hold one while attached. The Pool is destroyed with
// the last holder, after every completed task was released.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "js_task.h"
#include "completion_columns.h"
#include "safe_tsfn.h"
#include "task_table.h"
#include "tasklets/attached_worker.hpp"
#include "tasklets/pool.hpp"
#include "tasklets/stats.hpp"

namespace tasklets_addon {

// The wake channel of one worker slot. The runtime's notify pointer keeps
// this object as its context for the pool's lifetime; the executor serving
// the slot plugs its `wake` function in at attach and takes it out at detach.
struct Executor;  // executor.cc

struct SlotState {
  enum class Phase { idle, requested, attached };
  std::mutex mutex;
  Phase phase = Phase::idle;
  std::shared_ptr<SafeTsfn> wake;
  // The executor serving the slot, while attached: interrupts reach it
  // through here (executor.cc). Set and cleared on its thread, under `mutex`.
  Executor* executor = nullptr;

  static void notify(void* self) noexcept;  // AttachedWorker::Notify
};

// Asks the executor serving `slot` to stop task `t` (WorkerHost::interrupt):
// executor.cc, "Interrupts". Any thread; `t` is alive during the call.
void interrupt_executor(SlotState& slot, tasklets::detail::TaskBase& t, tasklets::TaskStatus why) noexcept;

struct PoolState {
  PoolState(std::uint32_t id, napi_env owner) : id(id), owner(owner) {}
  ~PoolState();
  PoolState(const PoolState&) = delete;
  PoolState& operator=(const PoolState&) = delete;

  const std::uint32_t id;
  const napi_env owner;  // the env that created the pool (its main thread)

  // --- completion list: many producers (whoever settles a task), one
  // consumer (the owner's thread). Intrusive LIFO through JsCall::next.
  alignas(64) std::atomic<tasklets::detail::TaskBase*> done_head{nullptr};
  std::atomic<bool> drain_scheduled{false};
  static void on_task_complete(void* self, tasklets::detail::TaskBase& t) noexcept;
  // Detaches every settled task, oldest first, and forgets their ids in
  // `tasks`. Owner thread.
  std::vector<tasklets::detail::TaskBase*> take_completed();

  // --- submitted tasks by JS id, until their completion is drained (owner thread)
  TaskTable tasks;

  // --- native memory held by the arguments of tasks not run yet (memory.limit):
  // charged by submit (owner thread, the only one that adds), released when
  // an executor takes the arguments or a task that never ran is drained.
  std::atomic<std::int64_t> argument_bytes{0};
  std::int64_t argument_limit = INT64_MAX;
  // Releases the arguments a task still holds (it never ran), and their charge.
  void release_unrun_arguments(JsCall& c) noexcept;

  // --- channels into the owner's loop
  std::shared_ptr<SafeTsfn> on_completions;  // data: nullptr, or a ShutdownDone*
  CompletionColumns columns;                 // of onCompletions calls (owner thread)
  std::shared_ptr<SafeTsfn> start_executor;  // data: the slot

  // --- functions: source <-> id (protocol.md, "Functions"). An entry lives
  // while JS holds it (registered, not released) or a submitted task not
  // drained yet uses it, so an executor always finds the source of a task
  // it takes, whatever JS evicted meanwhile. Ids are never reused while an
  // entry has them.
  std::uint32_t register_function(const std::string& source);
  std::optional<std::string> function_source(std::uint32_t id);
  void release_functions(const std::uint32_t* ids, std::size_t count);
  // Submitted tasks hold their function (owner thread, after submit); drained
  // ones let it go (take_completed).
  void hold_functions(const JsCall* calls, std::size_t count);
  std::size_t function_count();

  SlotState& slot(unsigned index);  // created on first use, never moved
  std::vector<unsigned> requested_slots();  // asked for, not attached
  bool any_attached();

  // --- tasks whose promise is still pending on an executor (ResultKind::kPending):
  // running as far as JS is concerned, so shutdown waits for them.
  void begin_async() noexcept;
  void end_async() noexcept;
  bool wait_async(std::chrono::milliseconds timeout) noexcept;  // false: timed out

  // --- owner-thread state
  bool shutting_down = false;
  std::vector<napi_deferred> shutdown_waiters;
  bool keep_alive = false;

  std::atomic<bool> constructed{false};  // `pool` is set
  std::unique_ptr<tasklets::Pool> pool;  // declared last: destroyed first

 private:
  struct FunctionEntry {
    std::string source;
    std::uint32_t tasks = 0;  // submitted, not drained
    bool held = true;         // registered by JS and not released
  };
  void drop_if_unused(std::unordered_map<std::uint32_t, FunctionEntry>::iterator it);
  void unhold_functions(const std::vector<tasklets::detail::TaskBase*>& drained);
  std::mutex functions_mutex_;
  std::unordered_map<std::uint32_t, FunctionEntry> functions_;          // nodes never move:
  std::unordered_map<std::string_view, std::uint32_t> function_ids_;    // keys view their sources
  std::uint32_t next_function_id_ = 0;
  std::mutex async_mutex_;
  std::condition_variable async_cv_;
  std::int64_t in_flight_ = 0;
  std::mutex slots_mutex_;
  std::unordered_map<unsigned, std::unique_ptr<SlotState>> slots_;
};

// Asks the pool's owner for an executor through startExecutor.
class JsHost : public tasklets::WorkerHost {
 public:
  explicit JsHost(std::weak_ptr<PoolState> state) : state_(std::move(state)) {}
  void start(unsigned slot) override;
  void interrupt(unsigned slot, tasklets::detail::TaskBase& task, tasklets::TaskStatus why) noexcept override;

 private:
  std::weak_ptr<PoolState> state_;
};

// Serves `slot` for an instant on a helper thread and leaves it, for a slot
// whose executor will never attach (a Worker that failed to start, or a
// request that could not be delivered). Without it shutdown would wait for
// that slot forever. `wait`: join the helper (otherwise it is detached).
// A requested executor will never attach: the slot is given up (Pool::abandon_slot).
void abandon_slot(const std::shared_ptr<PoolState>& state, unsigned slot);

// Frees what settled tasks hold and releases them without calling JS.
void discard_completions(PoolState& state) noexcept;

namespace registry {
std::uint32_t next_id() noexcept;
void insert(std::shared_ptr<PoolState> state);
std::shared_ptr<PoolState> find(std::uint32_t id);
// Drops the pool, remembering its last figures for stats().
void retire(std::uint32_t id, tasklets::PoolStats final_stats);
std::optional<tasklets::PoolStats> final_stats(std::uint32_t id);
// Whether `id` was handed out (pools are never forgotten by id: a pool not
// live any more was shut down, even once its final figures are dropped).
bool was_created(std::uint32_t id) noexcept;
}  // namespace registry

}  // namespace tasklets_addon
