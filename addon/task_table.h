// JS task id -> the native task object, for the tasks of one pool whose
// completion the main thread has not drained yet (cancel, cancelRange and
// dependencies look tasks up by id).
//
// Owner thread only. Why a raw pointer is safe: a task object is recycled
// only after its last reference is released, and the completion list keeps
// one until the owner's drain releases it; the drain erases the entry first
// (PoolState::take_completed). So while an id is in the table, its pointer
// is a live task that still carries that id.
//
// Layout: ids are handed out in increasing order and mostly settle in about
// that order, so a ring indexed by `id & mask` holds nearly every entry (no
// hashing, no allocation per task). When an id's slot is taken by the live
// id one lap older, the ring doubles (up to kMaxSize) so that a large batch
// in flight (runAll of 200k tasks) still lands in it; an older straggler
// (a task that runs for long) moves to an overflow map instead.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "tasklets/task.hpp"

namespace tasklets_addon {

class TaskTable {
 public:
  using TaskBase = tasklets::detail::TaskBase;

  TaskTable() : ids_(kInitialSize, kEmpty), tasks_(kInitialSize, nullptr) {}

  void insert(double id, TaskBase* t) {
    std::size_t i = index(id);
    // The slot holds a live id one lap older: the batch in flight outgrew
    // the ring, which doubles. Any older (a straggler that runs for long)
    // moves to the overflow map and leaves its slot.
    while (ids_[i] != kEmpty && id - ids_[i] <= static_cast<double>(ids_.size()) && ids_.size() < kMaxSize) {
      grow();
      i = index(id);
    }
    if (ids_[i] != kEmpty) overflow_.emplace(ids_[i], tasks_[i]);
    ids_[i] = id;
    tasks_[i] = t;
  }

  TaskBase* find(double id) const noexcept {
    const std::size_t i = index(id);
    if (ids_[i] == id) return tasks_[i];
    if (overflow_.empty()) return nullptr;
    auto it = overflow_.find(id);
    return it == overflow_.end() ? nullptr : it->second;
  }

  void erase(double id) noexcept {
    const std::size_t i = index(id);
    if (ids_[i] == id) {
      ids_[i] = kEmpty;
      tasks_[i] = nullptr;
      return;
    }
    if (!overflow_.empty()) overflow_.erase(id);
  }

  void clear() noexcept {
    std::fill(ids_.begin(), ids_.end(), kEmpty);
    std::fill(tasks_.begin(), tasks_.end(), nullptr);
    overflow_.clear();
  }

 private:
  static constexpr std::size_t kInitialSize = 1u << 16;
  static constexpr std::size_t kMaxSize = 1u << 24;  // 256 MB of entries at most
  static constexpr double kEmpty = -1;
  std::size_t index(double id) const noexcept {
    return static_cast<std::size_t>(static_cast<std::uint64_t>(id) & (ids_.size() - 1));
  }

  // Doubles the ring, moving every live entry to its slot in the larger one
  // (consecutive ids never collide there).
  void grow() {
    const std::size_t size = ids_.size() * 2;
    std::vector<double> ids(size, kEmpty);
    std::vector<TaskBase*> tasks(size, nullptr);
    for (std::size_t k = 0; k < ids_.size(); ++k) {
      if (ids_[k] == kEmpty) continue;
      const std::size_t j = static_cast<std::size_t>(static_cast<std::uint64_t>(ids_[k]) & (size - 1));
      if (ids[j] == kEmpty) {
        ids[j] = ids_[k];
        tasks[j] = tasks_[k];
      } else {
        overflow_.emplace(ids_[k], tasks_[k]);
      }
    }
    ids_.swap(ids);
    tasks_.swap(tasks);
  }

  std::vector<double> ids_;
  std::vector<TaskBase*> tasks_;
  std::unordered_map<double, TaskBase*> overflow_;
};

}  // namespace tasklets_addon
