// Interrupting the JavaScript a task runs on an executor without stopping
// the executor: V8's TerminateExecution ends the running script at its next
// interrupt check (a loop back-edge, a call), uncatchably, and
// CancelTerminateExecution lets the same isolate run JavaScript again.
// Node's vm timeouts work the same way. N-API has neither: these are
// implemented in transfer.cc, the addon's one file that calls V8's API.
//
// Protocol (executor.cc, "Interrupts"): the executor thread publishes the
// task it is invoking under its run mutex; an interrupter terminates only
// while holding that mutex and only if that task is still the one being
// invoked, so a termination never lands in another task or in the executor's
// own loop. The executor, after the call returns, takes the mutex, sees the
// request and cancels the termination before it runs any other JavaScript.
#pragma once

namespace tasklets_addon {

using IsolateHandle = void*;

IsolateHandle current_isolate() noexcept;           // on the isolate's own thread
void terminate_execution(IsolateHandle isolate) noexcept;  // any thread
void cancel_termination(IsolateHandle isolate) noexcept;   // any thread

}  // namespace tasklets_addon

namespace tasklets_addon {
// Asks V8 to collect garbage and give free heap pages back to the system
// (memory.cleanup 'aggressive'). On the isolate's own thread.
void release_heap_memory() noexcept;
}  // namespace tasklets_addon
