#include "errors.h"

#include <exception>
#include <new>

#include "tasklets/backtrace.hpp"
#include "tasklets/error.hpp"

namespace tasklets_addon {

namespace {

const char* code_of(tasklets::Errc errc) noexcept {
  switch (errc) {
    case tasklets::Errc::shutdown: return "ERR_POOL_SHUTDOWN";
    case tasklets::Errc::invalid_argument:
    case tasklets::Errc::topology: return "ERR_INVALID_ARG_VALUE";
    default: return kNativeCode;
  }
}

template <class E>
E with_code(E error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  return error;
}

// A failure of native code: where it happened natively (`nativeTrace`) and
// the JS call that reached it (`stackTrace`, the error's own stack).
Napi::Error with_trace(Napi::Error error, const tasklets::Backtrace& trace) {
  error.Set("nativeTrace", Napi::String::New(error.Env(), trace.to_string()));
  error.Set("stackTrace", error.Get("stack"));
  return error;
}

}  // namespace

Napi::Error coded_error(napi_env env, const char* code, const std::string& message) {
  Napi::Error error = with_code(Napi::Error::New(env, message), code);
  if (std::string_view(code) == kNativeCode) return with_trace(error, tasklets::Backtrace::capture());
  return error;
}

Napi::Error type_error(napi_env env, const char* code, const std::string& message) {
  return with_code(Napi::TypeError::New(env, message), code);
}

Napi::Error status_error(napi_env env, const char* code) { return coded_error(env, code, code); }

Napi::Error current_exception_to_js(napi_env env) noexcept {
  // Building the error may itself fail (a terminating isolate); then the
  // bare Error that napi makes for a failed call is the best we have.
  try {
    try {
      throw;
    } catch (const tasklets::Error& e) {
      Napi::Error error = with_code(Napi::Error::New(env, e.what()), code_of(e.code()));
      return e.trace() ? with_trace(error, *e.trace()) : error;
    } catch (const std::bad_alloc&) {
      return with_code(Napi::Error::New(env, "tasklets: out of memory"), kNativeCode);
    } catch (const std::exception& e) {
      return with_code(Napi::Error::New(env, e.what()), kNativeCode);
    } catch (...) {
      return with_code(Napi::Error::New(env, "tasklets: unknown native error"), kNativeCode);
    }
  } catch (const Napi::Error& e) {
    return e;
  } catch (...) {
    return Napi::Error();
  }
}

}  // namespace tasklets_addon
