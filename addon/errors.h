// Errors crossing into JavaScript. Every exported function runs inside
// guarded(): a Napi::Error passes through, a tasklets::Error becomes an Error
// with a `code` (ERR_POOL_SHUTDOWN, ERR_INVALID_ARG_VALUE, ERR_TASKLETS_NATIVE),
// anything else becomes ERR_TASKLETS_NATIVE. Messages come from the core;
// the wording users see is js/'s business: a refusal users meet (the pool
// is shut down, memory.limit) is a status_error, which carries its code and
// the facts only, and js/addon.js words it (js/errors.js).
//
// Native traces (docs/api.md, "Errors"): a tasklets::Error brings the
// `nativeTrace` of where the runtime raised it (the addon turns recording
// on); an ERR_TASKLETS_NATIVE error the addon raises itself (a broken
// expectation between js/ and the addon) gets the trace of where it was
// made. Other C++ exceptions (std::bad_alloc...) carry no trace: catching
// them here would only show this file.
#pragma once

#include <napi.h>

#include <string>
#include <string_view>

namespace tasklets_addon {

inline constexpr char kNativeCode[] = "ERR_TASKLETS_NATIVE";

Napi::Error coded_error(napi_env env, const char* code, const std::string& message);
Napi::Error type_error(napi_env env, const char* code, const std::string& message);
// An Error whose message is its code; js/ gives it words.
Napi::Error status_error(napi_env env, const char* code);

// Converts the exception being handled (call inside a catch block).
Napi::Error current_exception_to_js(napi_env env) noexcept;

// Throws the pending JS exception (or a generic one) when a napi call failed.
inline void check(napi_env env, napi_status status) {
  if (status != napi_ok) throw Napi::Error::New(env);
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw current_exception_to_js(info.Env());
  }
}

}  // namespace tasklets_addon
