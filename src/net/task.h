// Task: a move-only `void()` callable stored inline, without allocation.
//
// Event loops pass tasks between threads (EventLoop::Post) and keep them in
// timers. std::function would allocate for any capture larger than two
// pointers, which puts malloc on the reply path; Task instead stores up to
// kTaskInlineBytesMax bytes of captures in place and refuses (at compile
// time) anything larger. Capture a pointer to a bigger state instead.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "base/assert.h"
#include "net/limits.h"

namespace tangelo::net {

// Not thread safe; a Task is owned by one thread at a time and moved across.
class Task {
 public:
  Task() = default;

  template <typename F>
  requires(!std::is_same_v<std::decay_t<F>, Task> && std::is_invocable_r_v<void, std::decay_t<F>&>)
      Task(F&& function) {  // NOLINT: implicit so lambdas convert at the call site.
    using Stored = std::decay_t<F>;
    static_assert(sizeof(Stored) <= kTaskInlineBytesMax,
                  "task captures exceed kTaskInlineBytesMax: capture a pointer instead");
    static_assert(alignof(Stored) <= alignof(std::max_align_t), "over-aligned task capture");
    static_assert(std::is_nothrow_move_constructible_v<Stored>,
                  "task captures must be nothrow-movable");
    ::new (static_cast<void*>(storage_)) Stored(std::forward<F>(function));
    ops_ = &kOpsFor<Stored>;
  }

  Task(Task&& other) noexcept { MoveFrom(other); }
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      MoveFrom(other);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  // Precondition: the task holds a callable.
  void operator()() {
    TG_ASSERT(ops_ != nullptr);
    ops_->invoke(storage_);
  }

  // Destroys the held callable (and its captures), leaving the task empty.
  void Reset() {
    if (ops_ != nullptr) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    void (*invoke)(void* storage);
    void (*move)(void* destination, void* source);  // Move-constructs, destroys source.
    void (*destroy)(void* storage);
  };

  template <typename Stored>
  static constexpr Ops kOpsFor = {
      [](void* storage) { (*static_cast<Stored*>(storage))(); },
      [](void* destination, void* source) {
        ::new (destination) Stored(std::move(*static_cast<Stored*>(source)));
        static_cast<Stored*>(source)->~Stored();
      },
      [](void* storage) { static_cast<Stored*>(storage)->~Stored(); },
  };

  void MoveFrom(Task& other) noexcept {
    if (other.ops_ != nullptr) {
      other.ops_->move(storage_, other.storage_);
      ops_ = other.ops_;
      other.ops_ = nullptr;
    }
  }

  alignas(std::max_align_t) unsigned char storage_[kTaskInlineBytesMax];
  const Ops* ops_ = nullptr;
};

}  // namespace tangelo::net
