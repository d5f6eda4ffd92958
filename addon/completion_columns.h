// The typed arrays of onCompletions (protocol.md), made once per pool and
// reused by every call: making four ArrayBuffers and their views was most of
// the addon's own cost of delivering one completion.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace tasklets_addon {

// Owner thread only. JS may read the arrays of a call until that call
// returns, and no longer: the next call writes over them. A call made while
// another is still running (a nested delivery) gets fresh arrays.
class CompletionColumns {
 public:
  struct View {
    napi_value ids, kinds, workers, durations;
    double* id;
    std::uint8_t* kind;
    std::int32_t* worker;
    double* duration;
  };
  // Arrays with room for n entries, until give_back(). Throws Napi::Error.
  View take(napi_env env, std::size_t n);
  void give_back() noexcept { busy_ = false; }
  // The pool is shut down: the kept arrays go; later calls get fresh ones.
  void close(napi_env env) noexcept;

 private:
  static View fresh(napi_env env, std::size_t n);
  void keep(napi_env env, const View& v, std::size_t capacity) noexcept;
  void forget(napi_env env) noexcept;

  enum { kIds, kKinds, kWorkers, kDurations, kColumns };
  napi_ref refs_[kColumns] = {};
  View kept_{};
  std::size_t capacity_ = 0;
  bool busy_ = false;
  bool closed_ = false;
};

}  // namespace tasklets_addon
