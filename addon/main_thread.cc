// The main-thread half of protocol.md: creating pools, submitting tasks,
// the function table, stats, keep-alive and failed executor starts.
// shutdown() lives in shutdown.cc.
#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>

#include "args.h"
#include "codec.h"
#include "completions.h"
#include "env_data.h"
#include "errors.h"
#include "exports.h"
#include "js_task.h"
#include "transfer.h"
#include "pool_registry.h"
#include "stats.h"
#include "submission.h"
#include "wire.h"

namespace tasklets_addon {

namespace {

// ---------------------------------------------------------------- createPool

std::optional<double> option(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsNumber()) throw type_error(o.Env(), "ERR_INVALID_ARG_TYPE", std::string("tasklets: options.") + name + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::optional<std::string> string_option(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsString()) throw type_error(o.Env(), "ERR_INVALID_ARG_TYPE", std::string("tasklets: options.") + name + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// Unpacks the options JS already validated and resolved; an absent field
// keeps the core's default.
tasklets::PoolConfig config_of(const Napi::Object& o) {
  tasklets::PoolConfig c;
  tasklets::WorkersConfig& w = c.workers;
  if (auto v = option(o, "min")) w.min = static_cast<int>(*v);
  if (auto v = option(o, "max")) w.max = static_cast<int>(*v);
  if (auto v = string_option(o, "scaling")) w.scaling = tasklets::parse_scaling(*v);
  if (auto v = string_option(o, "placement")) c.placement = tasklets::parse_placement(*v);
  if (auto v = string_option(o, "topology")) c.topology = *v;
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  if (auto v = option(o, "idleTimeoutMs")) w.idle_timeout = milliseconds(static_cast<std::int64_t>(*v));
  if (auto v = option(o, "tickUs")) w.tick = microseconds(static_cast<std::int64_t>(*v));
  if (auto v = option(o, "backlogPerWorker")) w.backlog_per_worker = static_cast<unsigned>(*v);
  if (auto v = option(o, "waitThresholdUs")) w.wait_threshold = microseconds(static_cast<std::int64_t>(*v));
  if (auto v = option(o, "growAfterTicks")) w.grow_after_ticks = static_cast<unsigned>(*v);
  if (auto v = option(o, "spinRounds")) c.spin_rounds = static_cast<unsigned>(*v);
  if (auto v = option(o, "yieldRounds")) c.yield_rounds = static_cast<unsigned>(*v);
  if (auto v = option(o, "workerSlots")) c.worker_slots = static_cast<unsigned>(*v);
  Napi::Value latency = o.Get("latencyMetrics");
  if (latency.IsBoolean()) c.latency_metrics = latency.As<Napi::Boolean>().Value();
  Napi::Value task_cpu = o.Get("taskCpuTime");
  if (task_cpu.IsBoolean()) c.task_cpu_time = task_cpu.As<Napi::Boolean>().Value();
  return c;
}

void start_executor_call_js(napi_env env, napi_value start_executor, void*, void* data) noexcept {
  if (!env || !start_executor) return;
  napi_value argv[1], recv;
  if (napi_create_uint32(env, static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(data)), &argv[0]) != napi_ok ||
      napi_get_undefined(env, &recv) != napi_ok) {
    return;
  }
  // A throw stays pending and is reported by Node as uncaught.
  napi_call_function(env, recv, start_executor, 1, argv, nullptr);
}

// ---------------------------------------------------------------- submit

// Arguments encoded so far, freed unless handed to the runtime. Per
// priority, in submission order: the calls, each one's timeout (ms, 0 none;
// empty when the batch has no timeouts) and its dependencies (JS ids; empty
// when the batch has none).
struct Encoded {
  std::array<std::vector<JsCall>, tasklets::kPriorityCount> by_priority;
  std::array<std::vector<double>, tasklets::kPriorityCount> timeouts;
  std::array<std::vector<std::vector<double>>, tasklets::kPriorityCount> deps;
  std::array<std::size_t, tasklets::kPriorityCount> submitted{};
  Encoded() = default;
  Encoded(const Encoded&) = delete;
  Encoded& operator=(const Encoded&) = delete;
  ~Encoded() {
    for (unsigned p = 0; p < tasklets::kPriorityCount; ++p) {
      auto& calls = by_priority[p];
      for (std::size_t i = submitted[p]; i < calls.size(); ++i) {
        free_payload_bytes(calls[i]);
        free_unrun_transfers(calls[i]);
      }
    }
  }
};

// A call whose arguments are still to be attached.
JsCall new_call(double id, std::uint32_t fn, ArgKind arg_kind) noexcept {
  JsCall c{};
  c.id = id;
  c.fn = fn;
  c.slot = -1;
  c.arg_kind = arg_kind;
  c.result_kind = ResultKind::kNone;
  c.inline_tag = kNotInline;
  return c;
}

JsCall packed_call(napi_env env, double id, std::uint32_t fn, const Packed& packed, std::uint32_t i) {
  if (!packed.offsets) throw type_error(env, "ERR_INVALID_ARG_VALUE", "tasklets: packed arguments without a packed buffer");
  wire::Slice slice;
  if (!wire::packed_slice(packed.bytes, packed.size, packed.offsets, i, slice)) {
    throw type_error(env, "ERR_INVALID_ARG_VALUE", "tasklets: packed argument offsets out of range");
  }
  JsCall c = new_call(id, fn, ArgKind::kPacked);
  const auto size = static_cast<std::uint32_t>(slice.size);
  if (size <= kInlineArgBytes) {
    std::memcpy(&c.data, slice.data, size);
    c.inline_tag = kArgsInline;
    c.length = size;
    return c;
  }
  const codec::Bytes b = codec::copy_bytes(slice.data, size);
  c.data.bytes = b.data;
  c.length = b.size;
  return c;
}

JsCall serialized_call(napi_env env, double id, std::uint32_t fn, napi_value args) {
  JsCall c = new_call(id, fn, ArgKind::kSerialized);
  const ByteView v = bytes_of(env, args);
  const codec::Bytes b = codec::copy_bytes(v.data, v.size);
  c.data.bytes = b.data;
  c.length = b.size;
  return c;
}

std::vector<double> dependency_ids(napi_env env, napi_value list) {
  napi_valuetype type;
  check(env, napi_typeof(env, list, &type));
  if (type == napi_undefined) return {};
  bool is_typed = false;
  check(env, napi_is_typedarray(env, list, &is_typed));
  if (!is_typed) throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: dependencies must be a Float64Array");
  napi_typedarray_type ta;
  std::size_t length = 0;
  void* data = nullptr;
  check(env, napi_get_typedarray_info(env, list, &ta, &length, &data, nullptr, nullptr));
  if (ta != napi_float64_array) throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: dependencies must be a Float64Array");
  const double* ids = static_cast<const double*>(data);
  return std::vector<double>(ids, ids + length);
}

// No deadline for 0 (none), Infinity, or beyond a century (the clock's
// nanoseconds would overflow; no task waits that long).
std::optional<std::chrono::steady_clock::time_point> deadline_after(double ms) {
  constexpr double kCentury = 100.0 * 365.25 * 24 * 3600 * 1000;
  if (!(ms > 0) || !(ms < kCentury)) return std::nullopt;
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double, std::milli>(ms));
}

// Submits calls[next, end) of one priority, which share `timeout_ms` and
// have no dependencies, in bulk; records each task under its JS id. `next`
// advances past each chunk handed to the runtime (the rest stays the
// caller's to free if this throws).
void submit_run(PoolState& state, std::vector<JsCall>& calls, std::size_t& next, std::size_t end,
                tasklets::SubmitOptions options, double timeout_ms) {
  options.deadline = deadline_after(timeout_ms);
  while (next < end) {
    const std::size_t begin = next;
    // Pool::submit_batch's own chunk: one bulk enqueue each.
    const std::size_t n = std::min(tasklets::Pool::kBatchChunk, end - begin);
    // One task object per call (post_batch would group calls into
    // segments, which an executor cannot take one by one). Throws
    // Errc::shutdown with nothing of this chunk enqueued; the chunks before
    // it were and settle normally.
    // Charged before the runtime gets them: an executor may release them at once.
    std::int64_t bytes = 0;
    for (std::size_t k = 0; k < n; ++k) bytes += charged_bytes(calls[begin + k]);
    state.argument_bytes.fetch_add(bytes, std::memory_order_relaxed);
    std::vector<tasklets::Handle<void>> handles;
    try {
      handles = state.pool->submit_batch(std::span<JsCall>(calls.data() + begin, n), options);
    } catch (...) {
      state.argument_bytes.fetch_sub(bytes, std::memory_order_relaxed);
      throw;
    }
    next = begin + n;
    state.hold_functions(calls.data() + begin, n);
    for (std::size_t k = 0; k < n; ++k) state.tasks.insert(calls[begin + k].id, handles[k].task_base());
  }
}

// One call on its own, with its dependencies if it has any: those still
// known by id are passed to the runtime; the others settled and were drained, which JS
// checked (a failed one rejected the call before it got here).
void submit_single(PoolState& state, JsCall& call, tasklets::SubmitOptions options, double timeout_ms,
                   const std::vector<double>& dep_ids) {
  options.deadline = deadline_after(timeout_ms);
  std::vector<tasklets::detail::TaskBase*> deps;
  deps.reserve(dep_ids.size());
  for (double id : dep_ids) {
    if (tasklets::detail::TaskBase* t = state.tasks.find(id)) deps.push_back(t);
  }
  options.depends_on = std::span<tasklets::detail::TaskBase* const>(deps.data(), deps.size());
  const std::uint32_t bytes = charged_bytes(call);
  state.argument_bytes.fetch_add(bytes, std::memory_order_relaxed);
  tasklets::Handle<void> handle;
  try {
    handle = state.pool->submit(call, options);
  } catch (...) {
    state.argument_bytes.fetch_sub(bytes, std::memory_order_relaxed);
    throw;
  }
  state.hold_functions(&call, 1);
  state.tasks.insert(call.id, handle.task_base());
}
// (submit_single's caller advances `submitted` only after it returned:
// a call the runtime refused is still the caller's to free.)

// memory.limit: the arguments of tasks not run yet stay within it; a
// batch that would pass it is refused whole (backpressure, as maxQueue),
// with the figures js/ words the refusal with.
void check_argument_limit(napi_env env, PoolState& state, std::int64_t batch) {
  if (state.argument_limit == INT64_MAX) return;
  const std::int64_t held = state.argument_bytes.load(std::memory_order_relaxed);
  if (held + batch > state.argument_limit) {
    Napi::Error e = status_error(env, "ERR_QUEUE_FULL");
    e.Set("argumentBytes", Napi::Number::New(env, static_cast<double>(held + batch)));
    e.Set("argumentLimit", Napi::Number::New(env, static_cast<double>(state.argument_limit)));
    throw e;
  }
}

}  // namespace

Napi::Value create_pool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: options must be an object");
  const tasklets::PoolConfig config = config_of(info[0].As<Napi::Object>());
  napi_value start_executor = function_arg(info, 1);
  napi_value on_completions = function_arg(info, 2);
  EnvData& data = env_data(env);

  auto state = std::make_shared<PoolState>(registry::next_id(), env);
  if (auto limit = option(info[0].As<Napi::Object>(), "argumentMemoryLimit")) {
    state->argument_limit = static_cast<std::int64_t>(*limit);
  }
  // Both channels exist before the Pool: its constructor asks for the
  // first executors. Neither keeps the loop alive until setKeepAlive(true).
  state->start_executor = SafeTsfn::create(env, start_executor, "tasklets.startExecutor", &start_executor_call_js,
                                           nullptr, nullptr, /*ref=*/false);
  void* context = make_completions_context(state);
  try {
    state->on_completions = SafeTsfn::create(env, on_completions, "tasklets.onCompletions", &completions_call_js,
                                             context, &free_completions_context, /*ref=*/false);
  } catch (...) {
    free_completions_context(context);
    throw;
  }
  state->pool = std::make_unique<tasklets::Pool>(config, std::make_shared<JsHost>(state));
  state->constructed.store(true, std::memory_order_release);
  data.owned_pools.push_back(state->id);
  registry::insert(state);
  return Napi::Number::New(env, state->id);
}

Napi::Value submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  const Submission s = read_submission(env, info[1]);
  if (!state->pool->accepting()) throw status_error(env, "ERR_POOL_SHUTDOWN");
  const std::uint32_t count = s.count;
  const double* ids = s.ids;
  const std::uint32_t* fns = s.fn_ids;
  const std::uint8_t* kinds = s.arg_kinds;
  const std::uint8_t* priorities = s.priorities;
  const double* timeouts = s.timeouts;
  napi_value transfers = s.transfers;
  napi_value deps = s.dependencies;

  Encoded encoded;
  {
    std::array<std::size_t, tasklets::kPriorityCount> per{};
    for (std::uint32_t i = 0; i < count; ++i) per[priorities[i] < tasklets::kPriorityCount ? priorities[i] : 0]++;
    for (unsigned p = 0; p < tasklets::kPriorityCount; ++p) encoded.by_priority[p].reserve(per[p]);
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint8_t p = priorities[i];
    if (p >= tasklets::kPriorityCount) throw type_error(env, "ERR_INVALID_ARG_VALUE", "tasklets: a priority must be 0, 1 or 2");
    if (timeouts) encoded.timeouts[p].push_back(timeouts[i]);
    if (deps) {
      Napi::HandleScope scope(env);
      napi_value list;
      check(env, napi_get_element(env, deps, i, &list));
      encoded.deps[p].push_back(dependency_ids(env, list));
    }
    if (kinds[i] == static_cast<std::uint8_t>(ArgKind::kPacked)) {
      // Packed primitives may be stored inline, over the transfer link: a
      // transfer comes with serialized arguments only (protocol.md).
      if (transfers) {
        Napi::HandleScope scope(env);
        napi_value list;
        check(env, napi_get_element(env, transfers, i, &list));
        napi_valuetype type;
        check(env, napi_typeof(env, list, &type));
        if (type != napi_undefined) {
          throw type_error(env, "ERR_INVALID_ARG_VALUE", "tasklets: transfers come with serialized arguments only");
        }
      }
      encoded.by_priority[p].push_back(packed_call(env, ids[i], fns[i], s.packed, i));
      continue;
    }
    if (kinds[i] != static_cast<std::uint8_t>(ArgKind::kSerialized)) throw type_error(env, "ERR_INVALID_ARG_VALUE", "tasklets: an argument kind must be 2 or 3");
    // One scope per task: a batch of 100k would otherwise pile up handles.
    if (!s.args) throw type_error(env, "ERR_INVALID_ARG_VALUE", "tasklets: serialized arguments without an args array");
    Napi::HandleScope scope(env);
    napi_value a;
    check(env, napi_get_element(env, s.args, i, &a));
    encoded.by_priority[p].push_back(serialized_call(env, ids[i], fns[i], a));
  }
  if (state->argument_limit != INT64_MAX) {
    std::int64_t batch = 0;
    for (const auto& calls : encoded.by_priority) {
      for (const JsCall& c : calls) batch += charged_bytes(c);
    }
    check_argument_limit(env, *state, batch);
  }
  // Transferred buffers are detached last, once nothing can refuse the
  // batch any more but the runtime itself: a refused call leaves them
  // untouched.
  if (transfers) {
    std::array<std::size_t, tasklets::kPriorityCount> at{};
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint8_t p = priorities[i];
      JsCall& c = encoded.by_priority[p][at[p]++];
      Napi::HandleScope scope(env);
      napi_value list;
      check(env, napi_get_element(env, transfers, i, &list));
      napi_valuetype type;
      check(env, napi_typeof(env, list, &type));
      if (type != napi_undefined) c.link.transfers = take_transfers(env, list);
    }
  }
  tasklets::SubmitOptions options;
  options.on_complete = &PoolState::on_task_complete;
  options.context = state.get();
  for (unsigned p = 0; p < tasklets::kPriorityCount; ++p) {
    options.priority = static_cast<tasklets::Priority>(p);
    auto& calls = encoded.by_priority[p];
    const auto& times = encoded.timeouts[p];
    const auto& dep_lists = encoded.deps[p];
    const auto timeout = [&](std::size_t k) { return times.empty() ? 0.0 : times[k]; };
    const auto dependent = [&](std::size_t k) { return !dep_lists.empty() && !dep_lists[k].empty(); };
    // Runs of calls with the same timeout and no dependencies go in bulk.
    std::size_t& i = encoded.submitted[p];
    while (i < calls.size()) {
      if (dependent(i)) {
        submit_single(*state, calls[i], options, timeout(i), dep_lists[i]);
        ++i;
        continue;
      }
      std::size_t end = i + 1;
      while (end < calls.size() && timeout(end) == timeout(i) && !dependent(end)) ++end;
      submit_run(*state, calls, i, end, options, timeout(i));
    }
  }
  return env.Undefined();
}

// One task with packed arguments, no transfer and no dependency: what run()
// hands over when it is the only task of its turn (a task awaited at a
// time). Reading a submission object costs about twenty Node-API calls;
// these few arguments cost a handful.
Napi::Value submit_one(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  if (!state->pool->accepting()) throw status_error(env, "ERR_POOL_SHUTDOWN");
  const double id = number_arg(info, 1);
  const std::uint32_t fn = uint32_arg(info, 2);
  const std::uint32_t priority = uint32_arg(info, 3);
  if (priority >= tasklets::kPriorityCount) throw type_error(env, "ERR_INVALID_ARG_VALUE", "tasklets: a priority must be 0, 1 or 2");
  const double timeout_ms = number_arg(info, 4);
  const ByteView bytes = bytes_of(env, info[5]);
  const std::uint32_t offsets[2] = {0, static_cast<std::uint32_t>(bytes.size)};
  JsCall call = packed_call(env, id, fn, Packed{bytes.data, offsets, bytes.size}, 0);
  struct Unsent {
    JsCall& call;
    bool sent = false;
    ~Unsent() {
      if (!sent) free_payload_bytes(call);
    }
  } unsent{call};
  check_argument_limit(env, *state, charged_bytes(call));
  tasklets::SubmitOptions options;
  options.on_complete = &PoolState::on_task_complete;
  options.context = state.get();
  options.priority = static_cast<tasklets::Priority>(priority);
  submit_single(*state, call, options, timeout_ms, {});
  unsent.sent = true;
  return env.Undefined();
}

// A task found by its JS id, with a reference held while this call works
// on it. The id table holds none: a task is alive while it is queued (the
// queue's reference) and once settled until the main thread drains it (the
// completion list's), but cancel_task() settles a queued task while a
// worker may be popping it: the worker sees it cancelled and drops the
// queue's reference, and without this one the object could be recycled
// before the completion callback takes the list's. Main thread only (the
// drain runs there too, so the task cannot go away between find and retain).
class FoundTask {
 public:
  FoundTask(PoolState& state, double id) noexcept : t_(state.tasks.find(id)) {
    if (t_) tasklets::detail::retain(*t_);
  }
  ~FoundTask() {
    if (t_) tasklets::detail::release(*t_);
  }
  FoundTask(const FoundTask&) = delete;
  FoundTask& operator=(const FoundTask&) = delete;
  tasklets::detail::TaskBase* get() const noexcept { return t_; }

 private:
  tasklets::detail::TaskBase* t_;
};

// cancel(poolId, id, force) -> CancelResult (protocol.h): kNotPending
// (settled, its completion on its way), kCancelled (it was queued or waiting),
// or kRunning + 1 + slot (with force, its executor was asked to stop it;
// kRunning alone: the slot is not known).
Napi::Value cancel(const Napi::CallbackInfo& info) {
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  const double id = number_arg(info, 1);
  const bool force = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  Napi::Env env = info.Env();
  const FoundTask found(*state, id);
  tasklets::detail::TaskBase* t = found.get();
  const auto result = [&](CancelResult r) { return Napi::Number::New(env, static_cast<std::uint8_t>(r)); };
  if (!t) return result(CancelResult::kNotPending);
  if (tasklets::detail::cancel_task(*t)) return result(CancelResult::kCancelled);
  const std::uint32_t word = t->state.load(std::memory_order_acquire);
  if (static_cast<tasklets::TaskStatus>(word & tasklets::detail::kStatusMask) != tasklets::TaskStatus::running) {
    return result(CancelResult::kNotPending);
  }
  if (force) tasklets::detail::interrupt_task(*t, tasklets::TaskStatus::cancelled);
  // Running on a hosted slot (an executor): the state word says which.
  const double slot = (word & tasklets::detail::kHostedBit) ? static_cast<double>(word >> tasklets::detail::kSlotShift) : -1;
  return Napi::Number::New(env, static_cast<double>(CancelResult::kRunning) + 1 + slot);
}

// taskSlot(poolId, id) -> the executor slot running task `id`, or that ran
// it when it settled there and was not drained yet; -1 otherwise (queued,
// settled without running, drained, unknown). A settled task's slot was
// written before its state was published (executor.cc, finish), which the
// acquire load pairs with.
Napi::Value task_slot(const Napi::CallbackInfo& info) {
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  const double id = number_arg(info, 1);
  const FoundTask found(*state, id);
  double slot = -1;
  if (tasklets::detail::TaskBase* t = found.get()) {
    const std::uint32_t word = t->state.load(std::memory_order_acquire);
    const auto status = static_cast<tasklets::TaskStatus>(word & tasklets::detail::kStatusMask);
    if (status == tasklets::TaskStatus::running && (word & tasklets::detail::kHostedBit)) {
      slot = static_cast<double>(word >> tasklets::detail::kSlotShift);
    } else if (tasklets::is_settled(status)) {
      slot = js_call(*t).slot;
    }
  }
  return Napi::Number::New(info.Env(), slot);
}

// cancelRange(poolId, firstId, count) -> how many of those tasks were still
// queued (or waiting) and are now cancelled.
Napi::Value cancel_range(const Napi::CallbackInfo& info) {
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  const double first = number_arg(info, 1);
  const double count = number_arg(info, 2);
  std::uint32_t cancelled = 0;
  for (double id = first; id < first + count; ++id) {
    const FoundTask found(*state, id);
    if (found.get() && tasklets::detail::cancel_task(*found.get())) ++cancelled;
  }
  return Napi::Number::New(info.Env(), cancelled);
}

// resize(poolId, options): new worker bounds for a running pool; `options`
// as for createPool (only the workers part is used). Throws the runtime's
// Error (invalid_argument: beyond the pool's worker slots; shutdown).
Napi::Value resize(const Napi::CallbackInfo& info) {
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  if (!info[1].IsObject()) throw type_error(info.Env(), "ERR_INVALID_ARG_TYPE", "tasklets: options must be an object");
  state->pool->resize(config_of(info[1].As<Napi::Object>()).workers);
  return info.Env().Undefined();
}

Napi::Value register_function(const Napi::CallbackInfo& info) {
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  return Napi::Number::New(info.Env(), state->register_function(string_arg(info, 1)));
}

// releaseFunctions(poolId, ids: Uint32Array): JS no longer needs these
// functions; each goes once no submitted task uses it.
Napi::Value release_functions(const Napi::CallbackInfo& info) {
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  bool is_typed = false;
  check(info.Env(), napi_is_typedarray(info.Env(), info[1], &is_typed));
  if (!is_typed) throw type_error(info.Env(), "ERR_INVALID_ARG_TYPE", "tasklets: function ids must be a Uint32Array");
  napi_typedarray_type type;
  std::size_t length = 0;
  void* data = nullptr;
  check(info.Env(), napi_get_typedarray_info(info.Env(), info[1], &type, &length, &data, nullptr, nullptr));
  if (type != napi_uint32_array) throw type_error(info.Env(), "ERR_INVALID_ARG_TYPE", "tasklets: function ids must be a Uint32Array");
  state->release_functions(static_cast<const std::uint32_t*>(data), length);
  return info.Env().Undefined();
}

Napi::Value function_source(const Napi::CallbackInfo& info) {
  std::shared_ptr<PoolState> state = pool_arg(info, 0);
  const std::uint32_t fn = uint32_arg(info, 1);
  std::optional<std::string> source = state->function_source(fn);
  if (!source) throw coded_error(info.Env(), "ERR_INVALID_ARG_VALUE", "tasklets: no function with id " + std::to_string(fn));
  return Napi::String::New(info.Env(), *source);
}

Napi::Value stats(const Napi::CallbackInfo& info) {
  const std::uint32_t id = uint32_arg(info, 0);
  if (auto state = registry::find(id)) {
    Napi::Object o = stats_to_js(info.Env(), state->pool->stats());
    o.Set("argumentBytes", Napi::Number::New(info.Env(), static_cast<double>(state->argument_bytes.load())));
    o.Set("registeredFunctions", Napi::Number::New(info.Env(), static_cast<double>(state->function_count())));
    return o;
  }
  if (auto last = registry::final_stats(id)) return stats_to_js(info.Env(), *last);
  throw coded_error(info.Env(), "ERR_INVALID_ARG_VALUE", "tasklets: no pool with id " + std::to_string(id));
}

Napi::Value set_keep_alive(const Napi::CallbackInfo& info) {
  const std::uint32_t id = uint32_arg(info, 0);
  std::shared_ptr<PoolState> state = registry::find(id);
  if (!state) return info.Env().Undefined();  // shut down: nothing left to keep alive
  napi_value flag = info[1];
  bool keep = false;
  check(info.Env(), napi_get_value_bool(info.Env(), flag, &keep));
  state->keep_alive = keep;
  // A shutdown in progress holds its own reference until it resolves.
  if (!state->shutting_down) state->on_completions->set_ref(info.Env(), keep);
  return info.Env().Undefined();
}

Napi::Value slot_failed(const Napi::CallbackInfo& info) {
  std::shared_ptr<PoolState> state = registry::find(uint32_arg(info, 0));
  const std::uint32_t slot = uint32_arg(info, 1);
  if (state) abandon_slot(state, slot);
  return info.Env().Undefined();
}

}  // namespace tasklets_addon
