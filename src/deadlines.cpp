#include "deadlines.hpp"

#include <algorithm>

namespace tasklets::detail {

void DeadlineTracker::reserve(std::size_t n) {
  std::lock_guard lock(mutex_);
  heap_.reserve(heap_.size() + reserved_ + n);
  reserved_ += n;
}

void DeadlineTracker::unreserve(std::size_t n) noexcept {
  std::lock_guard lock(mutex_);
  reserved_ -= n;
}

bool DeadlineTracker::add(TaskBase* t) noexcept {
  std::lock_guard lock(mutex_);
  TASKLETS_ASSERT(reserved_ > 0 && heap_.capacity() > heap_.size());
  --reserved_;
  const bool earliest = heap_.empty() || t->deadline_ns < heap_.front().at;
  heap_.push_back(Entry{t->deadline_ns, t});  // within the reserved capacity: no allocation
  std::push_heap(heap_.begin(), heap_.end(), &later);
  return earliest || heap_.size() >= compact_at_;
}

bool DeadlineTracker::wants_compaction() const {
  std::lock_guard lock(mutex_);
  return heap_.size() >= compact_at_;
}

std::vector<TaskBase*> DeadlineTracker::compact() {
  std::vector<TaskBase*> settled;
  std::lock_guard lock(mutex_);
  settled.reserve(heap_.size());
  // Partition in place (no allocation besides `settled`), then rebuild the heap.
  const auto keep_end = std::partition(heap_.begin(), heap_.end(),
                                       [](const Entry& e) { return !is_settled(e.task->status()); });
  for (auto it = keep_end; it != heap_.end(); ++it) settled.push_back(it->task);
  heap_.erase(keep_end, heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), &later);
  compact_at_ = std::max(kCompactAtLeast, 2 * heap_.size());
  return settled;
}

std::int64_t DeadlineTracker::take_due(std::int64_t now, std::vector<TaskBase*>& due) {
  std::lock_guard lock(mutex_);
  while (!heap_.empty() && heap_.front().at <= now) {
    due.push_back(heap_.front().task);
    std::pop_heap(heap_.begin(), heap_.end(), &later);
    heap_.pop_back();
  }
  return heap_.empty() ? -1 : heap_.front().at;
}

std::vector<TaskBase*> DeadlineTracker::take_all() {
  std::lock_guard lock(mutex_);
  std::vector<TaskBase*> all;
  all.reserve(heap_.size());
  for (const Entry& e : heap_) all.push_back(e.task);
  heap_.clear();
  return all;
}

std::int64_t DeadlineTracker::next() const {
  std::lock_guard lock(mutex_);
  return heap_.empty() ? -1 : heap_.front().at;
}

}  // namespace tasklets::detail
