#include "deadlines.hpp"

#include <algorithm>

namespace tasklets::detail {

bool DeadlineTracker::add(TaskBase* t) {
  std::lock_guard lock(mutex_);
  const bool earliest = heap_.empty() || t->deadline_ns < heap_.top().at;
  heap_.push(Entry{t->deadline_ns, t});
  return earliest || heap_.size() >= compact_at_;
}

bool DeadlineTracker::wants_compaction() const {
  std::lock_guard lock(mutex_);
  return heap_.size() >= compact_at_;
}

std::vector<TaskBase*> DeadlineTracker::compact() {
  std::lock_guard lock(mutex_);
  std::vector<Entry> keep;
  std::vector<TaskBase*> settled;
  keep.reserve(heap_.size());
  while (!heap_.empty()) {
    const Entry e = heap_.top();
    heap_.pop();
    (is_settled(e.task->status()) ? settled.push_back(e.task) : keep.push_back(e));
  }
  heap_ = decltype(heap_)(std::greater<Entry>(), std::move(keep));
  compact_at_ = std::max(kCompactAtLeast, 2 * heap_.size());
  return settled;
}

std::int64_t DeadlineTracker::take_due(std::int64_t now, std::vector<TaskBase*>& due) {
  std::lock_guard lock(mutex_);
  while (!heap_.empty() && heap_.top().at <= now) {
    due.push_back(heap_.top().task);
    heap_.pop();
  }
  return heap_.empty() ? -1 : heap_.top().at;
}

std::vector<TaskBase*> DeadlineTracker::take_all() {
  std::lock_guard lock(mutex_);
  std::vector<TaskBase*> all;
  all.reserve(heap_.size());
  while (!heap_.empty()) {
    all.push_back(heap_.top().task);
    heap_.pop();
  }
  return all;
}

std::int64_t DeadlineTracker::next() const {
  std::lock_guard lock(mutex_);
  return heap_.empty() ? -1 : heap_.top().at;
}

}  // namespace tasklets::detail
