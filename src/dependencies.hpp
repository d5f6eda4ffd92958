// Task dependencies (SubmitOptions::depends_on; docs/architecture.md,
// "Dependencies"). Nothing here is touched by a task submitted without
// dependencies, or settled without dependents.
//
// The records:
//   * a Waiter per task submitted with dependencies (the *dependent*): the
//     task, a count of dependencies not yet resolved plus one held by the
//     submitter while it registers, and one Edge per dependency, all in one
//     allocation made before anything is registered;
//   * the dependents of a task still unsettled (the *dependency*): a list of
//     Edges in the registry below, keyed by the dependency's address, and
//     kDependentsBit in its state word saying that the list exists.
//
// Registration (submitter, for each dependency d, under d's shard lock):
//   read d's state; if settled, the edge is resolved at once with d's final
//   status; otherwise set kDependentsBit by CAS (which fails, and is retried,
//   if d settles meanwhile) and link the edge into d's list.
// Settlement (whoever settles d): publish() swaps the state word for the
//   final status and returns the old word; if it had kDependentsBit, take
//   d's list under the shard lock and resolve each edge with d's status.
//
// Invariant (no lost edge): an edge is either resolved by its registrant
// (d was settled when it looked) or linked while d was unsettled with the bit
// set. In the second case the bit was set before publish()'s exchange in d's
// state order, so the settler sees it and takes the list; it takes it under
// the same lock, after the registrant linked the edge (the lock is held from
// the CAS to the link). publish() clears the bit, and a registrant that finds
// d settled does not link, so a list is taken exactly once and nothing is
// linked after it was taken.
//
// Resolving an edge (any thread): a dependency that did not succeed moves the
// dependent waiting -> dependency_failed (one CAS; it may already have left
// waiting, by cancel or deadline); then the Waiter's count is decremented.
// Whoever brings it to zero owns the Waiter: if the task is still waiting
// (so every dependency succeeded) it moves it waiting -> queued and queues
// it, passing the Waiter's reference to the queue; otherwise it drops that
// reference. Then it frees the Waiter. The submitter's held count means the
// Waiter cannot be freed while edges are still being registered.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <new>
#include <unordered_map>

#include "tasklets/task.hpp"

namespace tasklets::detail {

struct Waiter;

struct Edge {
  Waiter* waiter;
  Edge* next = nullptr;                           // in its dependency's list, then in a work list
  TaskStatus dep_status = TaskStatus::waiting;  // the dependency's final status, once resolved
};

struct Waiter {
  TaskBase* task;
  std::atomic<std::uint32_t> pending;  // unresolved dependencies, plus one while registering
  std::uint32_t count;                 // edges

  Edge* edges() noexcept { return std::launder(reinterpret_cast<Edge*>(this + 1)); }

  // pending = n + 1 (the submitter's hold). Throws std::bad_alloc.
  static Waiter* make(TaskBase* task, std::size_t n) {
    void* mem = ::operator new(sizeof(Waiter) + n * sizeof(Edge));
    auto* w = ::new (mem) Waiter(task, static_cast<std::uint32_t>(n));
    auto* e = reinterpret_cast<Edge*>(w + 1);
    for (std::size_t i = 0; i < n; ++i) ::new (static_cast<void*>(e + i)) Edge{w};
    return w;
  }
  static void destroy(Waiter* w) noexcept {
    if (!w) return;
    w->~Waiter();  // edges are trivially destructible
    ::operator delete(w);
  }

 private:
  Waiter(TaskBase* t, std::uint32_t n) noexcept : task(t), pending(n + 1), count(n) {}
};
static_assert(sizeof(Waiter) % alignof(Edge) == 0 && alignof(Waiter) >= alignof(Edge));
static_assert(std::is_trivially_destructible_v<Edge>);

class DependencyRegistry {
 public:
  // Links `e` into dep's dependents and returns TaskStatus::waiting, or, if
  // dep is already settled, links nothing and returns its final status.
  // Throws std::bad_alloc (nothing linked).
  TaskStatus link(TaskBase& dep, Edge& e) {
    Shard& s = shard(&dep);
    std::lock_guard lock(s.mutex);
    auto [it, inserted] = s.lists.try_emplace(&dep, nullptr);
    std::uint32_t cur = dep.state.load(std::memory_order_acquire);
    for (;;) {
      const auto status = static_cast<TaskStatus>(cur & kStatusMask);
      if (is_settled(status)) {
        // An existing entry belongs to the settler, which is about to take it.
        if (inserted) s.lists.erase(it);
        return status;
      }
      if (dep.state.compare_exchange_weak(cur, cur | kDependentsBit, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
        break;
      }
    }
    e.next = it->second;
    it->second = &e;
    return TaskStatus::waiting;
  }

  // The edges linked to `dep`, oldest first, removed from the registry.
  // Called once, by dep's settler, when publish() returned kDependentsBit.
  Edge* take(TaskBase& dep) noexcept {
    Edge* list = nullptr;
    {
      Shard& s = shard(&dep);
      std::lock_guard lock(s.mutex);
      auto it = s.lists.find(&dep);
      if (it == s.lists.end()) return nullptr;
      list = it->second;
      s.lists.erase(it);  // frees a node: no allocation, cannot throw
    }
    // Linked newest first; resolve in registration order.
    Edge* oldest_first = nullptr;
    while (list) {
      Edge* next = list->next;
      list->next = oldest_first;
      oldest_first = list;
      list = next;
    }
    return oldest_first;
  }

 private:
  static constexpr unsigned kShards = 64;
  struct alignas(64) Shard {
    std::mutex mutex;
    std::unordered_map<TaskBase*, Edge*> lists;
  };
  Shard& shard(const TaskBase* t) noexcept {
    // Task objects are 128-byte aligned: drop those bits, then mix.
    const auto k = (reinterpret_cast<std::uintptr_t>(t) >> 7) * 0x9e3779b97f4a7c15ull;
    return shards_[k >> 58];
  }
  static_assert(kShards == 64, "shard() takes the top 6 bits of the hash");
  Shard shards_[kShards];
};

}  // namespace tasklets::detail
