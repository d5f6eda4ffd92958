// The executor half of protocol.md, running on a Worker thread: attach to a
// slot, run batches of tasks through the JS `invoke`, settle tasks whose
// promise resolves later, detach.
//
// Threading: everything here runs on the executor's own thread (take() and
// finish() must be called on the thread that attached). Other threads reach
// an executor only through SlotState::notify -> its `wake` function, and
// through interrupt_executor (below), under the slot's and the executor's
// run mutex.
//
// Interrupts (a task's timeout passed while it ran, or cancel with force):
// - the task is being invoked (synchronous JavaScript, e.g. a loop that never
//   returns): under `run_mutex`, if `invoking` is still that task, the
//   interrupter records why and terminates the isolate's execution
//   (isolate.h). The executor's invoke call returns; under `run_mutex` it
//   clears `invoking`, sees the request, cancels the termination and
//   finishes the task with that status. The executor and its other tasks
//   live on.
// - the task is pending (its promise has not settled): the request is queued
//   (`requests`, under `run_mutex`) and the executor woken; on its own
//   thread it finishes the task with that status at once and tells JS (its
//   signal aborts; its promise, when it settles, is ignored).
// - the task is neither (it just finished, or is about to): nothing to do.
// Invariant: a termination is only requested while `invoking` is the task it
// is meant for, and `invoking` is cleared only under the same mutex after
// the call returned, so a termination can never hit another task or the
// executor's own loop.
#include <time.h>

#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>

#include "args.h"
#include "codec.h"
#include "env_data.h"
#include "errors.h"
#include "exports.h"
#include "isolate.h"
#include "js_task.h"
#include "transfer.h"
#include "pool_registry.h"
#include "tasklets/backtrace.hpp"

namespace tasklets_addon {

using tasklets::AttachedWorker;
using tasklets::TaskStatus;
using tasklets::detail::TaskBase;

struct Executor {
  std::shared_ptr<PoolState> state;
  SlotState* slot_state = nullptr;
  unsigned slot = 0;
  std::shared_ptr<SafeTsfn> wake;
  std::unique_ptr<AttachedWorker> worker;
  // idle() said the slot must stop while promises were still pending: once
  // the last one is finished, `wake` runs the loop again and idle() exits.
  bool draining = false;
  napi_ref outcome_ref = nullptr;
  std::int32_t* outcome = nullptr;
  struct Pending {
    TaskBase* task;
    std::int64_t start_ns;
    std::uint64_t cpu_ns;  // of its synchronous part
  };
  std::unordered_map<double, Pending> pending;

  // --- interrupts (see the top of this file)
  IsolateHandle isolate = nullptr;
  std::mutex run_mutex;
  TaskBase* invoking = nullptr;                        // under run_mutex
  TaskStatus interrupted_as = TaskStatus::queued;      // under run_mutex; queued = none
  std::vector<std::pair<double, TaskStatus>> requests;  // under run_mutex: pending tasks to stop
  // Tasks this thread settled for an interrupt, still to be told to JS.
  std::vector<std::pair<double, TaskStatus>> settled;
};

void interrupt_executor(SlotState& slot, TaskBase& t, TaskStatus why) noexcept {
  std::shared_ptr<SafeTsfn> wake;
  {
    std::lock_guard slot_lock(slot.mutex);
    Executor* ex = slot.executor;
    if (!ex) return;
    std::lock_guard run_lock(ex->run_mutex);
    if (ex->invoking == &t) {
      if (ex->interrupted_as == TaskStatus::queued) {
        ex->interrupted_as = why;
        terminate_execution(ex->isolate);
      }
      return;
    }
    try {
      ex->requests.emplace_back(js_call(t).id, why);
    } catch (...) {
      return;  // no memory: the task runs to its end
    }
    wake = ex->wake;
  }
  if (wake) wake->call(nullptr);
}

namespace {

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Thread CPU time: a system call, read only when the pool records per-task
// CPU time (AttachedWorker::measures_cpu).
std::uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

Executor& executor_of(napi_env env) {
  Executor* ex = env_data(env).executor;
  if (!ex) throw coded_error(env, "ERR_TASKLETS_NATIVE", "tasklets: this thread is not attached to a pool");
  return *ex;
}

// The JS `wake(ids?, whys?)`: with the tasks settled for interrupts since
// the last call, if any.
void call_wake(napi_env env, napi_value wake, Executor* ex) noexcept {
  napi_value recv;
  if (napi_get_undefined(env, &recv) != napi_ok) return;
  std::size_t argc = 0;
  napi_value argv[2];
  if (ex && !ex->settled.empty()) {
    const std::size_t n = ex->settled.size();
    napi_value ids_buffer, whys_buffer;
    void* ids_data = nullptr;
    void* whys_data = nullptr;
    if (napi_create_arraybuffer(env, n * sizeof(double), &ids_data, &ids_buffer) == napi_ok &&
        napi_create_arraybuffer(env, n, &whys_data, &whys_buffer) == napi_ok &&
        napi_create_typedarray(env, napi_float64_array, n, ids_buffer, 0, &argv[0]) == napi_ok &&
        napi_create_typedarray(env, napi_uint8_array, n, whys_buffer, 0, &argv[1]) == napi_ok) {
      for (std::size_t i = 0; i < n; ++i) {
        static_cast<double*>(ids_data)[i] = ex->settled[i].first;
        static_cast<std::uint8_t*>(whys_data)[i] =
            static_cast<std::uint8_t>(ex->settled[i].second == TaskStatus::timed_out ? ResultKind::kTimedOut : ResultKind::kCancelled);
      }
      argc = 2;
    }
    ex->settled.clear();
  }
  napi_call_function(env, recv, wake, argc, argv, nullptr);  // a throw is reported as uncaught
}

void settle_interrupted(Executor& ex, TaskBase* t, std::int64_t start_ns, TaskStatus why) noexcept;

void wake_call_js(napi_env env, napi_value wake, void*, void*) noexcept {
  if (!env || !wake) return;
  Executor* ex = nullptr;
  try {
    ex = env_data(env).executor;
  } catch (...) {
    return;  // the module's env data is gone: the env is being torn down
  }
  if (ex) {
    std::vector<std::pair<double, TaskStatus>> requests;
    {
      std::lock_guard lock(ex->run_mutex);
      requests.swap(ex->requests);
    }
    for (auto& [id, why] : requests) {
      auto it = ex->pending.find(id);
      if (it == ex->pending.end() || !ex->worker) continue;  // settled meanwhile
      const Executor::Pending p = it->second;
      ex->pending.erase(it);
      settle_interrupted(*ex, p.task, p.start_ns, why);
      ex->state->end_async();
    }
  }
  call_wake(env, wake, ex);
}

// A result the executor could not produce (kind 7): a UTF-8 message, a NUL,
// and the native stack of where the addon found out (protocol.md). The
// trace is symbolized here, on the failing executor, not on the main thread.
void set_native_error(JsCall& c, const char* message) noexcept {
  free_payload_bytes(c);
  c.result_kind = ResultKind::kRuntimeError;
  try {
    std::string text(message);
    text += '\0';
    text += tasklets::Backtrace::capture().to_string();
    const codec::Bytes b = codec::copy_bytes(text.data(), text.size());
    c.data.bytes = b.data;
    c.length = b.size;
  } catch (...) {
    // No memory for the message: the main side reports a generic one.
    c.result_kind = ResultKind::kNone;
  }
}

// Stores what `invoke` returned for outcome `kind` into the payload.
void set_result(napi_env env, JsCall& c, std::int32_t outcome, napi_value value) {
  free_payload_bytes(c);
  const auto kind = static_cast<ResultKind>(outcome);
  switch (kind) {
    case ResultKind::kCancelled:  // the task ended after its signal was aborted (cancel)
      break;
    case ResultKind::kPrimitive: {
      std::uint8_t tag;
      double number;
      if (codec::encode_scalar(env, value, tag, number)) {
        c.inline_tag = tag;
        c.data.number = number;
      } else {
        const codec::Bytes b = codec::encode_value(env, value);
        c.data.bytes = b.data;
        c.length = b.size;
      }
      break;
    }
    case ResultKind::kSerialized:
    case ResultKind::kError: {
      const ByteView v = bytes_of(env, value);
      const codec::Bytes b = codec::copy_bytes(v.data, v.size);
      c.data.bytes = b.data;
      c.length = b.size;
      break;
    }
    default:
      throw coded_error(env, "ERR_TASKLETS_NATIVE", "tasklets: invoke wrote an unknown outcome " + std::to_string(outcome));
  }
  c.result_kind = kind;
}

void finish(Executor& ex, TaskBase* t, std::int64_t start_ns, std::uint64_t cpu_ns = 0) noexcept {
  JsCall& c = js_call(*t);
  c.slot = static_cast<std::int16_t>(ex.slot);
  const std::int64_t end = now_ns();  // also the runtime's end of the task: one clock read
  c.duration_ms = static_cast<double>(end - start_ns) / 1e6;
  TaskStatus status = TaskStatus::failed;
  if (c.result_kind == ResultKind::kPrimitive || c.result_kind == ResultKind::kSerialized) status = TaskStatus::succeeded;
  if (c.result_kind == ResultKind::kCancelled) status = TaskStatus::cancelled;
  ex.worker->finish(t, status, cpu_ns, end);
}

// Finishes a task stopped by an interrupt with `why` (timed_out or
// cancelled); JS hears of it with the next wake call.
void settle_interrupted(Executor& ex, TaskBase* t, std::int64_t start_ns, TaskStatus why) noexcept {
  JsCall& c = js_call(*t);
  free_payload_bytes(c);
  c.result_kind = why == TaskStatus::timed_out ? ResultKind::kTimedOut : ResultKind::kCancelled;
  c.slot = static_cast<std::int16_t>(ex.slot);
  c.duration_ms = static_cast<double>(now_ns() - start_ns) / 1e6;
  const double id = c.id;
  ex.worker->finish(t, why);
  try {
    ex.settled.emplace_back(id, why);
    if (ex.settled.size() == 1 && ex.wake) ex.wake->call(nullptr);
  } catch (...) {
    // No memory: JS keeps waiting for the promise of a task already settled.
  }
}

// The message of the exception pending after a failed call, cleared.
std::string take_exception_message(napi_env env) noexcept {
  napi_value error, text;
  if (napi_get_and_clear_last_exception(env, &error) != napi_ok || !error) return "tasklets: invoke failed";
  if (napi_coerce_to_string(env, error, &text) != napi_ok) return "tasklets: invoke threw (the executor is stopping)";
  std::size_t len = 0;
  if (napi_get_value_string_utf8(env, text, nullptr, 0, &len) != napi_ok) return "tasklets: invoke threw";
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, text, s.data(), len + 1, &len);
  return "tasklets: invoke threw: " + s;
}

// The task's arguments as JS values; their native bytes are released (and
// no longer count toward the pool's memory.limit).
napi_value args_of(napi_env env, PoolState& state, JsCall& c) {
  napi_value args;
  if (c.arg_kind == ArgKind::kPacked) {
    args = codec::decode_array(env, arg_bytes(c), c.length);
  } else {
    void* ignored;
    check(env, napi_create_buffer_copy(env, c.length, c.data.bytes, &ignored, &args));
  }
  state.release_unrun_arguments(c);
  return args;
}

// Runs one taken task. False if `invoke` threw (it should not: js/ catches
// everything), which ends the batch: the isolate may be terminating.
bool run_task(napi_env env, Executor& ex, napi_value invoke, TaskBase* t) noexcept {
  JsCall& c = js_call(*t);
  const std::int64_t start = now_ns();
  const bool measure_cpu = ex.worker->measures_cpu();
  const std::uint64_t cpu_start = measure_cpu ? thread_cpu_ns() : 0;
  std::uint64_t cpu = 0;
  bool invoked = true;
  try {
    napi_value argv[5], recv, result;
    argv[2] = args_of(env, *ex.state, c);
    check(env, napi_create_uint32(env, c.fn, &argv[0]));
    check(env, napi_create_uint32(env, static_cast<std::uint32_t>(c.arg_kind), &argv[1]));
    check(env, napi_create_double(env, c.id, &argv[3]));
    check(env, napi_get_undefined(env, &recv));
    if (c.link.transfers) {
      argv[4] = give_transfers(env, std::exchange(c.link.transfers, nullptr));
    } else {
      argv[4] = recv;  // undefined
    }
    ex.outcome[0] = static_cast<std::int32_t>(ResultKind::kNone);
    {
      std::lock_guard lock(ex.run_mutex);
      ex.invoking = t;
    }
    const napi_status called = napi_call_function(env, recv, invoke, 5, argv, &result);
    if (measure_cpu) cpu = thread_cpu_ns() - cpu_start;
    TaskStatus interrupted;
    {
      std::lock_guard lock(ex.run_mutex);
      ex.invoking = nullptr;
      interrupted = std::exchange(ex.interrupted_as, TaskStatus::queued);
    }
    if (interrupted != TaskStatus::queued) {
      // Stopped by an interrupt (or it was requested just as the call
      // returned): the termination must not reach the next script.
      cancel_termination(ex.isolate);
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
      settle_interrupted(ex, t, start, interrupted);
      return true;
    }
    if (called != napi_ok) {
      invoked = false;
      set_native_error(c, take_exception_message(env).c_str());
    } else if (ex.outcome[0] == static_cast<std::int32_t>(ResultKind::kPending)) {
      ex.pending.emplace(c.id, Executor::Pending{t, start, cpu});
      ex.state->begin_async();
      return true;
    } else {
      set_result(env, c, ex.outcome[0], result);
    }
  } catch (const std::exception& e) {
    set_native_error(c, e.what());
  } catch (...) {
    set_native_error(c, "tasklets: unknown error running a task");
  }
  finish(ex, t, start, cpu);
  return invoked;
}

Napi::Value batch_result(Napi::Env env, RunBatch r) { return Napi::Number::New(env, static_cast<std::uint8_t>(r)); }

// The slot is left: the AttachedWorker goes; detach() releases the rest.
Napi::Value exit_slot(Napi::Env env, Executor& ex) {
  ex.worker.reset();
  return batch_result(env, RunBatch::kStop);
}

}  // namespace

Napi::Value attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvData& data = env_data(env);
  if (data.executor) throw coded_error(env, "ERR_TASKLETS_NATIVE", "tasklets: this thread already serves a slot");
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  const std::uint32_t slot = uint32_arg(info, 1);
  napi_value wake = function_arg(info, 2);
  std::int32_t* outcome = typed_array_arg<std::int32_t>(info, 3, napi_int32_array, 1);

  auto ex = std::make_unique<Executor>();
  ex->state = state;
  ex->slot = slot;
  ex->outcome = outcome;
  // The wake function keeps this Worker's loop alive while it serves.
  ex->wake = SafeTsfn::create(env, wake, "tasklets.wake", &wake_call_js, nullptr, nullptr, /*ref=*/true);
  SlotState& st = state->slot(slot);
  ex->slot_state = &st;
  {
    std::lock_guard lock(st.mutex);
    st.wake = ex->wake;
  }
  try {
    check(env, napi_create_reference(env, info[3], 1, &ex->outcome_ref));
    ex->worker = std::make_unique<AttachedWorker>(*state->pool, slot, &SlotState::notify, &st);
  } catch (...) {
    {
      std::lock_guard lock(st.mutex);
      if (st.wake == ex->wake) st.wake = nullptr;
    }
    ex->wake->release();
    if (ex->outcome_ref) napi_delete_reference(env, ex->outcome_ref);
    throw;
  }
  ex->isolate = current_isolate();
  {
    std::lock_guard lock(st.mutex);
    st.phase = SlotState::Phase::attached;
    st.executor = ex.get();
  }
  const tasklets::BindResult bind = ex->worker->binding();
  Napi::Object o = Napi::Object::New(env);
  o.Set("slot", Napi::Number::New(env, slot));
  o.Set("numa", Napi::Number::New(env, ex->worker->numa()));
  o.Set("pinned", Napi::Boolean::New(env, bind.pinned));
  Napi::Array pus = Napi::Array::New(env);
  const tasklets::PoolStats s = state->pool->stats();
  if (slot < s.workers.size()) {
    const auto& bound = s.workers[slot].pus;
    for (std::size_t i = 0; i < bound.size(); ++i) pus.Set(static_cast<std::uint32_t>(i), Napi::Number::New(env, bound[i]));
  }
  o.Set("pus", pus);
  o.Set("bindError", Napi::String::New(env, bind.error));
  data.executor = ex.release();
  return o;
}

Napi::Value run_batch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Executor& ex = executor_of(env);
  napi_value invoke = function_arg(info, 0);
  const std::uint32_t max_tasks = uint32_arg(info, 1);
  const double budget_us = number_arg(info, 2);
  if (!ex.worker) return batch_result(env, RunBatch::kStop);
  if (ex.draining && !ex.pending.empty()) return batch_result(env, RunBatch::kParked);
  ex.draining = false;

  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(budget_us * 1000.0);
  std::uint32_t ran = 0;
  for (;;) {
    if (TaskBase* t = ex.worker->take()) {
      const bool ok = run_task(env, ex, invoke, t);
      if (!ok || ++ran >= max_tasks || now_ns() >= deadline) return batch_result(env, RunBatch::kAgain);
      continue;
    }
    switch (ex.worker->idle()) {
      case AttachedWorker::Idle::retry:
        if (now_ns() >= deadline) return batch_result(env, RunBatch::kAgain);
        continue;
      case AttachedWorker::Idle::parked: return batch_result(env, RunBatch::kParked);
      case AttachedWorker::Idle::drain:
        ex.draining = true;
        return batch_result(env, RunBatch::kParked);
      case AttachedWorker::Idle::exit: return exit_slot(env, ex);
    }
  }
}

Napi::Value finish_async(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Executor& ex = executor_of(env);
  const double id = number_arg(info, 0);
  const std::int32_t kind = static_cast<std::int32_t>(number_arg(info, 1));
  auto it = ex.pending.find(id);
  // Not pending: an interrupt settled it already (js/ checks first; this
  // covers a promise that settles in the same turn as the interrupt).
  if (it == ex.pending.end() || !ex.worker) return env.Undefined();
  const Executor::Pending p = it->second;
  ex.pending.erase(it);
  JsCall& c = js_call(*p.task);
  try {
    set_result(env, c, kind, info[2]);
  } catch (const std::exception& e) {
    set_native_error(c, e.what());
  }
  finish(ex, p.task, p.start_ns, p.cpu_ns);
  ex.state->end_async();
  // The slot must stop and this was its last pending task: run the loop once
  // more so that idle() lets it go and runBatch reports the exit.
  if (ex.draining && ex.pending.empty()) ex.wake->call(nullptr);
  return env.Undefined();
}

void close_executor(EnvData& data) noexcept {
  Executor* ex = std::exchange(data.executor, nullptr);
  if (!ex) return;
  if (ex->worker) {
    for (auto& [id, p] : ex->pending) {
      set_native_error(js_call(*p.task), "tasklets: the executor stopped before the task's promise settled");
      finish(*ex, p.task, p.start_ns);
      ex->state->end_async();
    }
  }
  ex->pending.clear();
  ex->worker.reset();  // leaves the slot unless idle() already did
  {
    std::lock_guard lock(ex->slot_state->mutex);
    if (ex->slot_state->executor == ex) ex->slot_state->executor = nullptr;
    if (ex->slot_state->wake == ex->wake) ex->slot_state->wake = nullptr;
    if (ex->slot_state->phase == SlotState::Phase::attached) ex->slot_state->phase = SlotState::Phase::idle;
  }
  ex->wake->release();
  if (ex->outcome_ref) napi_delete_reference(data.env, ex->outcome_ref);
  delete ex;
}

Napi::Value detach(const Napi::CallbackInfo& info) {
  close_executor(env_data(info.Env()));
  return info.Env().Undefined();
}

}  // namespace tasklets_addon
