#include "submission.h"

#include <string>

#include "args.h"
#include "errors.h"

namespace tasklets_addon {

namespace {

[[noreturn]] void bad_field(napi_env env, const char* name, const char* want) {
  throw type_error(env, "ERR_INVALID_ARG_TYPE", std::string("tasklets: submission field ") + name + " must be " + want);
}

napi_value field(napi_env env, napi_value object, const char* name) {
  napi_value v;
  check(env, napi_get_named_property(env, object, name, &v));
  return v;
}

bool absent(napi_env env, napi_value v) {
  napi_valuetype type;
  check(env, napi_typeof(env, v, &type));
  return type == napi_undefined || type == napi_null;
}

template <class T>
const T* typed(napi_env env, napi_value object, const char* name, napi_typedarray_type want, std::size_t min_length) {
  const void* data = typed_array_data(env, field(env, object, name), want, min_length);
  if (!data) bad_field(env, name, "a typed array of the right type and length");
  return static_cast<const T*>(data);
}

napi_value array_or_null(napi_env env, napi_value object, const char* name) {
  napi_value v = field(env, object, name);
  if (absent(env, v)) return nullptr;
  bool is = false;
  check(env, napi_is_array(env, v, &is));
  if (!is) bad_field(env, name, "an Array");
  return v;
}

}  // namespace

Submission read_submission(napi_env env, napi_value columns) {
  napi_valuetype type;
  check(env, napi_typeof(env, columns, &type));
  if (type != napi_object) throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: a submission must be an object");
  Submission s;
  napi_value count = field(env, columns, "count");
  if (napi_get_value_uint32(env, count, &s.count) != napi_ok) bad_field(env, "count", "a number");
  s.ids = typed<double>(env, columns, "ids", napi_float64_array, s.count);
  s.fn_ids = typed<std::uint32_t>(env, columns, "fnIds", napi_uint32_array, s.count);
  s.arg_kinds = typed<std::uint8_t>(env, columns, "argKinds", napi_uint8_array, s.count);
  s.priorities = typed<std::uint8_t>(env, columns, "priorities", napi_uint8_array, s.count);
  s.args = array_or_null(env, columns, "args");
  if (!absent(env, field(env, columns, "packed"))) {
    s.packed.offsets = typed<std::uint32_t>(env, columns, "offsets", napi_uint32_array, std::size_t{s.count} + 1);
    const ByteView v = bytes_of(env, field(env, columns, "packed"));
    s.packed.bytes = v.data;
    s.packed.size = v.size;
  }
  if (!absent(env, field(env, columns, "timeouts"))) {
    s.timeouts = typed<double>(env, columns, "timeouts", napi_float64_array, s.count);
  }
  s.transfers = array_or_null(env, columns, "transfers");
  s.dependencies = array_or_null(env, columns, "dependencies");
  return s;
}

}  // namespace tasklets_addon
