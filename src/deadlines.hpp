// Tasks submitted with a deadline. The tracker holds one reference on each
// such task until its deadline passes; then the housekeeper tries to move
// the task from queued to timed_out (the same CAS a worker or a canceller
// would use, so exactly one of them settles it). Cold path: a mutex is fine.
//
// Entries of tasks that settled long before their deadline are dropped by
// compact(), which the housekeeper runs whenever the tracker has doubled in
// size since the last compaction, so the tracker holds at most about twice
// the number of tasks still waiting for their deadline.
//
// Submission reserves room first (reserve(), which may throw, before the
// task is queued) and adds the entry after the task is queued (add(), which
// cannot fail), so a task is never queued without its entry or tracked
// without being queued.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "tasklets/task.hpp"

namespace tasklets::detail {

class DeadlineTracker {
 public:
  void reserve(std::size_t n);            // throws std::bad_alloc
  void unreserve(std::size_t n) noexcept;  // a reservation that will not be used
  // Uses one reservation. True if the housekeeper should look now: this
  // deadline is the earliest, or the tracker grew enough to be compacted.
  bool add(TaskBase* t) noexcept;
  // Removes the entries of settled tasks; returns them (to be released).
  std::vector<TaskBase*> compact();
  bool wants_compaction() const;
  // Pops every entry due at `now` into `due`; returns the next deadline or -1.
  std::int64_t take_due(std::int64_t now, std::vector<TaskBase*>& due);
  std::vector<TaskBase*> take_all();
  std::int64_t next() const;

 private:
  struct Entry {
    std::int64_t at;
    TaskBase* task;
  };
  // Min-heap on `at` (std::push_heap with "later first" ordering).
  static bool later(const Entry& a, const Entry& b) noexcept { return a.at > b.at; }

  static constexpr std::size_t kCompactAtLeast = 4096;
  mutable std::mutex mutex_;
  std::vector<Entry> heap_;
  std::size_t reserved_ = 0;
  std::size_t compact_at_ = kCompactAtLeast;
};

}  // namespace tasklets::detail
