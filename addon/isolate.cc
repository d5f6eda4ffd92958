#include "isolate.h"

#include <v8.h>

namespace tasklets_addon {

IsolateHandle current_isolate() noexcept { return v8::Isolate::GetCurrent(); }

void terminate_execution(IsolateHandle isolate) noexcept {
  static_cast<v8::Isolate*>(isolate)->TerminateExecution();
}

void cancel_termination(IsolateHandle isolate) noexcept {
  static_cast<v8::Isolate*>(isolate)->CancelTerminateExecution();
}

}  // namespace tasklets_addon

namespace tasklets_addon {

void release_heap_memory() noexcept {
  if (v8::Isolate* isolate = v8::Isolate::GetCurrent()) isolate->LowMemoryNotification();
}

}  // namespace tasklets_addon
