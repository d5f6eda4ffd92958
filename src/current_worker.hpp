// Which worker slot the calling thread serves, if any. Set by the thread
// itself when it starts serving (a native worker, or an attached one) and
// cleared by its last act on the slot (Scheduler::finish_leave).
#pragma once

namespace tasklets {
class Scheduler;
namespace detail {
struct Worker;

inline thread_local Worker* t_worker = nullptr;
inline thread_local Scheduler* t_scheduler = nullptr;

}  // namespace detail
}  // namespace tasklets
