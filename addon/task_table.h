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
// hashing, no allocation per task); an id whose slot is taken by a live
// older one goes to an overflow map.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "tasklets/task.hpp"

namespace tasklets_addon {

class TaskTable {
 public:
  using TaskBase = tasklets::detail::TaskBase;

  TaskTable() : ids_(kSize, kEmpty), tasks_(kSize, nullptr) {}

  void insert(double id, TaskBase* t) {
    const std::size_t i = index(id);
    if (ids_[i] == kEmpty) {
      ids_[i] = id;
      tasks_[i] = t;
    } else {
      overflow_.emplace(id, t);
    }
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
  static constexpr std::size_t kSize = 1u << 16;
  static constexpr double kEmpty = -1;
  static std::size_t index(double id) noexcept {
    return static_cast<std::size_t>(static_cast<std::uint64_t>(id) & (kSize - 1));
  }

  std::vector<double> ids_;
  std::vector<TaskBase*> tasks_;
  std::unordered_map<double, TaskBase*> overflow_;
};

}  // namespace tasklets_addon
