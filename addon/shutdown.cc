#include "shutdown.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "args.h"
#include "env_data.h"
#include "errors.h"
#include "exports.h"

namespace tasklets_addon {

namespace {

std::chrono::milliseconds timeout_of(double ms) {
  // Infinity (or anything beyond ~292 years) means "no timeout".
  if (!(ms < 9.0e15)) return std::chrono::milliseconds::max();
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, ms)));
}

void resolve(napi_env env, napi_deferred deferred, const ShutdownDone& done) {
  napi_value result;
  if (!done.error.empty()) {
    result = coded_error(env, "ERR_TASKLETS_NATIVE", done.error).Value();
    check(env, napi_reject_deferred(env, deferred, result));
    return;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("timedOut", Napi::Boolean::New(env, done.report.timed_out));
  o.Set("cancelled", Napi::Number::New(env, static_cast<double>(done.report.cancelled)));
  check(env, napi_resolve_deferred(env, deferred, o));
}

// The helper thread: native shutdown, then the tasks still pending on
// executors (they settle through finishAsync), then the hand-off to the
// main thread, queued behind every completion.
void run_shutdown(std::shared_ptr<PoolState> state, tasklets::ShutdownMode mode, std::chrono::milliseconds timeout) {
  auto* done = new ShutdownDone;
  try {
    const auto start = std::chrono::steady_clock::now();
    done->report = state->pool->shutdown(mode, timeout);
    auto left = std::chrono::milliseconds::max();
    if (timeout != std::chrono::milliseconds::max()) {
      const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      left = std::max(std::chrono::milliseconds(0), timeout - spent);
    }
    if (!state->wait_async(left)) done->report.timed_out = true;
  } catch (const std::exception& e) {
    done->error = e.what();
  } catch (...) {
    done->error = "tasklets: unknown error in shutdown";
  }
  if (!state->on_completions->call(done)) delete done;
}

void forget_owned(napi_env env, std::uint32_t id) noexcept {
  try {
    auto& owned = env_data(env).owned_pools;
    owned.erase(std::remove(owned.begin(), owned.end(), id), owned.end());
  } catch (...) {
    // The env's data is gone: nothing to forget.
  }
}

}  // namespace

Napi::Value shutdown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint32_t id = uint32_arg(info, 0);
  const std::string mode = string_arg(info, 1);
  const std::chrono::milliseconds timeout = timeout_of(number_arg(info, 2));
  napi_deferred deferred;
  napi_value promise;
  check(env, napi_create_promise(env, &deferred, &promise));
  std::shared_ptr<PoolState> state = registry::find(id);
  if (!state) {
    if (!registry::was_created(id)) throw coded_error(env, "ERR_INVALID_ARG_VALUE", "tasklets: no pool with id " + std::to_string(id));
    resolve(env, deferred, ShutdownDone{});  // already shut down
    return Napi::Value(env, promise);
  }
  state->shutdown_waiters.push_back(deferred);
  if (state->shutting_down) return Napi::Value(env, promise);  // resolved with the first call
  state->shutting_down = true;
  // Hold the loop open until the promise resolves, whatever setKeepAlive says.
  state->on_completions->set_ref(env, true);
  try {
    std::thread(run_shutdown, state, mode == "cancel" ? tasklets::ShutdownMode::cancel : tasklets::ShutdownMode::drain,
                timeout)
        .detach();
  } catch (...) {
    state->shutting_down = false;
    state->shutdown_waiters.pop_back();
    state->on_completions->set_ref(env, state->keep_alive);
    throw;
  }
  return Napi::Value(env, promise);
}

void finish_shutdown(napi_env env, PoolState& state, ShutdownDone* done) noexcept {
  std::unique_ptr<ShutdownDone> owned(done);
  std::vector<napi_deferred> waiters = std::move(state.shutdown_waiters);
  state.shutdown_waiters.clear();
  for (napi_deferred d : waiters) {
    try {
      resolve(env, d, *done);
    } catch (...) {
      // A terminating env cannot settle promises; nothing waits on them.
    }
  }
  state.start_executor->release();
  state.on_completions->release();
  forget_owned(env, state.id);
  try {
    registry::retire(state.id, state.pool->stats());
  } catch (...) {
    registry::retire(state.id, tasklets::PoolStats{});
  }
}

void close_owned_pools(EnvData& data) noexcept {
  // The env is going away: no JS can run, so nothing is delivered. Executors
  // of this env were stopped before its cleanup hooks ran; a pool that other
  // envs still serve is left alone (their teardown detaches them).
  for (std::uint32_t id : std::exchange(data.owned_pools, {})) {
    std::shared_ptr<PoolState> state = registry::find(id);
    if (!state) continue;
    state->start_executor->release();
    state->on_completions->release();
    try {
      for (unsigned slot : state->requested_slots()) abandon_slot(state, slot);
      if (state->any_attached()) continue;
      state->pool->shutdown(tasklets::ShutdownMode::cancel, std::chrono::milliseconds(0));
      discard_completions(*state);
      registry::retire(id, state->pool->stats());
    } catch (...) {
      // Leave the pool as it is; the process is most likely exiting.
    }
  }
}

}  // namespace tasklets_addon
