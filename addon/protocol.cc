// `addon.protocol`: the numbers of protocol.h under the names js/protocol.js
// gives them, for tests/js/protocol.test.js to compare.
#include "protocol.h"

#include <napi.h>

#include <initializer_list>
#include <utility>

#include "exports.h"

namespace tasklets_addon {

namespace {

template <class E>
Napi::Object table(Napi::Env env, std::initializer_list<std::pair<const char*, E>> entries) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [name, value] : entries) o.Set(name, Napi::Number::New(env, static_cast<std::uint8_t>(value)));
  return o;
}

}  // namespace

Napi::Object protocol_object(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("argKinds", table<ArgKind>(env, {{"SERIALIZED", ArgKind::kSerialized}, {"PACKED", ArgKind::kPacked}}));
  o.Set("resultKinds", table<ResultKind>(env, {
                                                  {"PRIMITIVE", ResultKind::kPrimitive},
                                                  {"SERIALIZED", ResultKind::kSerialized},
                                                  {"ERROR", ResultKind::kError},
                                                  {"CANCELLED", ResultKind::kCancelled},
                                                  {"TIMED_OUT", ResultKind::kTimedOut},
                                                  {"PENDING", ResultKind::kPending},
                                                  {"RUNTIME_ERROR", ResultKind::kRuntimeError},
                                                  {"DEPENDENCY_FAILED", ResultKind::kDependencyFailed},
                                              }));
  o.Set("tags", table<Tag>(env, {
                                    {"UNDEFINED", kUndefined},
                                    {"NULL", kNull},
                                    {"FALSE", kFalse},
                                    {"TRUE", kTrue},
                                    {"FLOAT64", kFloat64},
                                    {"STRING", kString},
                                    {"BIGINT", kBigInt},
                                    {"INT32", kInt32},
                                }));
  o.Set("runBatch", table<RunBatch>(env, {{"AGAIN", RunBatch::kAgain}, {"PARKED", RunBatch::kParked}, {"STOP", RunBatch::kStop}}));
  o.Set("cancel", table<CancelResult>(env, {
                                              {"NOT_PENDING", CancelResult::kNotPending},
                                              {"CANCELLED", CancelResult::kCancelled},
                                              {"RUNNING", CancelResult::kRunning},
                                          }));
  return o;
}

}  // namespace tasklets_addon
