#include "completions.h"

#include <cstring>
#include <optional>

#include "codec.h"
#include "errors.h"
#include "js_task.h"
#include "shutdown.h"

namespace tasklets_addon {

using tasklets::TaskStatus;
using tasklets::detail::TaskBase;

namespace {

using WeakPool = std::weak_ptr<PoolState>;

// Releases every drained task, whatever happens while converting them.
struct ReleaseAll {
  PoolState& state;
  std::vector<TaskBase*>& tasks;
  ~ReleaseAll() {
    for (TaskBase* t : tasks) {
      state.release_unrun_arguments(js_call(*t));
      tasklets::detail::release(*t);
    }
  }
};

napi_value buffer_copy(napi_env env, const unsigned char* data, std::size_t size) {
  napi_value out;
  void* ignored;
  check(env, napi_create_buffer_copy(env, size, data, &ignored, &out));
  return out;
}

// The kind onCompletions reports, and the value to go with it (or null).
ResultKind convert(napi_env env, TaskBase& t, napi_value& value) {
  JsCall& c = js_call(t);
  value = nullptr;
  switch (t.status()) {
    case TaskStatus::cancelled: return ResultKind::kCancelled;
    case TaskStatus::timed_out: return ResultKind::kTimedOut;
    case TaskStatus::dependency_failed: return ResultKind::kDependencyFailed;
    case TaskStatus::succeeded:
    case TaskStatus::failed: break;
    default: TASKLETS_ASSERT(false && "a task in the completion list is not settled");
  }
  switch (c.result_kind) {
    case ResultKind::kPrimitive:
      value = c.inline_tag != kNotInline ? codec::decode_scalar(env, c.inline_tag, c.data.number)
                                         : codec::decode_value(env, c.data.bytes, c.length);
      return ResultKind::kPrimitive;
    case ResultKind::kSerialized:
    case ResultKind::kError:
      value = buffer_copy(env, c.data.bytes, c.length);
      return c.result_kind;
    case ResultKind::kRuntimeError:
      check(env, napi_create_string_utf8(env, reinterpret_cast<const char*>(c.data.bytes), c.length, &value));
      return ResultKind::kRuntimeError;
    default: {
      static constexpr char kLost[] = "tasklets: the task settled without a result";
      check(env, napi_create_string_utf8(env, kLost, sizeof kLost - 1, &value));
      return ResultKind::kRuntimeError;
    }
  }
}

}  // namespace

void* make_completions_context(const std::shared_ptr<PoolState>& state) { return new WeakPool(state); }

void free_completions_context(void* context) noexcept { delete static_cast<WeakPool*>(context); }

void deliver_completions(napi_env env, napi_value on_completions, PoolState& state) {
  std::vector<TaskBase*> tasks = state.take_completed();
  if (tasks.empty() || !on_completions) {
    ReleaseAll release{state, tasks};
    return;
  }
  const std::size_t n = tasks.size();
  CompletionColumns& columns = state.columns;
  const CompletionColumns::View v = columns.take(env, n);
  struct GiveBack {
    CompletionColumns& columns;
    ~GiveBack() { columns.give_back(); }
  } give_back{columns};
  napi_value argv[6] = {nullptr, v.ids, v.kinds, nullptr, v.workers, v.durations};
  {
    ReleaseAll release{state, tasks};
    check(env, napi_create_uint32(env, static_cast<std::uint32_t>(n), &argv[0]));
    check(env, napi_create_array_with_length(env, n, &argv[3]));
    for (std::size_t i = 0; i < n; ++i) {
      const JsCall& c = js_call(*tasks[i]);
      v.id[i] = c.id;
      v.worker[i] = c.slot;
      v.duration[i] = c.duration_ms;
      napi_value value;
      v.kind[i] = static_cast<std::uint8_t>(convert(env, *tasks[i], value));
      if (value) check(env, napi_set_element(env, argv[3], static_cast<std::uint32_t>(i), value));
    }
  }
  napi_value recv;
  check(env, napi_get_undefined(env, &recv));
  check(env, napi_call_function(env, recv, on_completions, 6, argv, nullptr));
}

void completions_call_js(napi_env env, napi_value on_completions, void* context, void* data) noexcept {
  auto* done = static_cast<ShutdownDone*>(data);
  std::shared_ptr<PoolState> state = static_cast<WeakPool*>(context)->lock();
  if (!env || !state) {
    // The env or the pool is going away: its teardown frees the tasks.
    delete done;
    return;
  }
  std::optional<Napi::Error> thrown;
  try {
    deliver_completions(env, on_completions, *state);
  } catch (const Napi::Error& e) {
    thrown = e;
  } catch (...) {
    // Out of memory converting results: the tasks were released anyway.
  }
  if (done) {
    state->columns.close(env);
    finish_shutdown(env, *state, done);
  }
  // A JS exception from onCompletions is rethrown: Node reports it as
  // uncaught once this returns, as for any callback.
  if (thrown) thrown->ThrowAsJavaScriptException();
}

}  // namespace tasklets_addon
