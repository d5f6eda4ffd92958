// One submission as js/ hands it to addon.submit(poolId, columns): a
// columns object with named fields (addon/protocol.md, "submit"), read once
// into this plain struct, the way sharp reads its options into a baton. The
// typed arrays are borrowed from the JS object: a Submission lives only
// during the submit call.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace tasklets_addon {

// ArgKind::kPacked: the task's primitive arguments were packed by js/pack.js
// into the batch's packed buffer; task i's bytes are
// bytes[offsets[i] .. offsets[i + 1]).
struct Packed {
  const unsigned char* bytes = nullptr;
  const std::uint32_t* offsets = nullptr;  // count + 1 entries
  std::size_t size = 0;
};

struct Submission {
  std::uint32_t count = 0;
  const double* ids = nullptr;            // JS task ids
  const std::uint32_t* fn_ids = nullptr;  // registered functions
  const std::uint8_t* arg_kinds = nullptr;
  napi_value args = nullptr;              // Array: a Buffer for each serialized task
  const std::uint8_t* priorities = nullptr;
  Packed packed;                          // when some task is kPacked
  const double* timeouts = nullptr;       // ms, 0 = none; null when no task has one
  napi_value transfers = nullptr;         // Array of ArrayBuffer lists, or null
  napi_value dependencies = nullptr;      // Array of Float64Array id lists, or null
};

// Reads `columns`. A missing or mistyped field is a TypeError naming it
// (js/ never sends one: a broken contract, not a user's mistake).
Submission read_submission(napi_env env, napi_value columns);

}  // namespace tasklets_addon
