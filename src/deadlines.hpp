// Tasks submitted with a deadline. The tracker holds one reference on each
// such task until its deadline passes; then the housekeeper tries to move
// the task from queued to timed_out (the same CAS a worker or a canceller
// would use, so exactly one of them settles it). Cold path: a mutex is fine.
#pragma once

#include <cstdint>
#include <mutex>
#include <queue>
#include <vector>

#include "tasklets/task.hpp"

namespace tasklets::detail {

class DeadlineTracker {
 public:
  // True if this deadline is now the earliest (the housekeeper should re-arm).
  bool add(TaskBase* t);
  // Pops every entry due at `now` into `due`; returns the next deadline or -1.
  std::int64_t take_due(std::int64_t now, std::vector<TaskBase*>& due);
  std::vector<TaskBase*> take_all();
  std::int64_t next() const;

 private:
  struct Entry {
    std::int64_t at;
    TaskBase* task;
    bool operator>(const Entry& o) const noexcept { return at > o.at; }
  };
  mutable std::mutex mutex_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

}  // namespace tasklets::detail
