#include "errors.h"

#include <exception>
#include <new>

#include "tasklets/error.hpp"

namespace tasklets_addon {

namespace {

const char* code_of(tasklets::Errc errc) noexcept {
  switch (errc) {
    case tasklets::Errc::shutdown: return "ERR_POOL_SHUTDOWN";
    case tasklets::Errc::invalid_argument:
    case tasklets::Errc::topology: return "ERR_INVALID_ARG_VALUE";
    default: return "ERR_TASKLETS_NATIVE";
  }
}

template <class E>
E with_code(E error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  return error;
}

}  // namespace

Napi::Error coded_error(napi_env env, const char* code, const std::string& message) {
  return with_code(Napi::Error::New(env, message), code);
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
      return coded_error(env, code_of(e.code()), e.what());
    } catch (const std::bad_alloc&) {
      return coded_error(env, "ERR_TASKLETS_NATIVE", "tasklets: out of memory");
    } catch (const std::exception& e) {
      return coded_error(env, "ERR_TASKLETS_NATIVE", e.what());
    } catch (...) {
      return coded_error(env, "ERR_TASKLETS_NATIVE", "tasklets: unknown native error");
    }
  } catch (const Napi::Error& e) {
    return e;
  } catch (...) {
    return Napi::Error();
  }
}

}  // namespace tasklets_addon
