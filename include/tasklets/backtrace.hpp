// A native call stack: captured cheaply (return addresses only, glibc's
// backtrace()) and symbolized only when it is read, from the ELF symbol
// tables of the loaded objects (docs/building.md, "Native traces").
#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace tasklets {

class Backtrace {
 public:
  static constexpr std::size_t kMaxFrames = 48;

  // The calling thread's stack, innermost first, starting at the caller of
  // capture() and leaving out `skip` more frames. Allocates nothing; safe to
  // call from any thread.
  static Backtrace capture(std::size_t skip = 0) noexcept;

  std::size_t size() const noexcept { return size_; }
  const void* frame(std::size_t i) const noexcept { return frames_[i]; }

  // One line per frame:
  //   #0 tasklets::Pool::submit_checked(...)+0x2a (/path/libfoo.so+0x1234)
  // The function is the ELF symbol that holds the address (demangled),
  // "??" when the object has no symbol table; the object and offset are
  // what `addr2line -f -C -e <object> <offset>` needs for a file and line.
  std::string to_string() const;

 private:
  std::array<void*, kMaxFrames> frames_{};
  std::size_t size_ = 0;
};

}  // namespace tasklets
