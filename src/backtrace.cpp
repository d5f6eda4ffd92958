// Symbolization reads the ELF symbol tables itself (.symtab, else .dynsym)
// because the runtime is built with hidden visibility: dladdr() and
// backtrace_symbols() only see exported symbols, so nearly every tasklets
// frame would print as a bare address. The tables are mapped read-only for
// one to_string() call; nothing here runs on a hot path.
#include "tasklets/backtrace.hpp"

#include <cxxabi.h>
#include <elf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace tasklets {

namespace {

// The loaded object that holds an address, and its load bias (what the
// st_value of its symbols is relative to).
struct Module {
  std::string path;
  std::uintptr_t bias = 0;
};

struct FindModule {
  std::uintptr_t pc = 0;
  Module found;
  bool ok = false;
};

int find_module_cb(dl_phdr_info* info, std::size_t, void* data) {
  auto* q = static_cast<FindModule*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (q->pc >= begin && q->pc < begin + ph.p_memsz) {
      // The main program is listed with an empty name.
      q->found.path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe";
      q->found.bias = info->dlpi_addr;
      q->ok = true;
      return 1;
    }
  }
  return 0;
}

// One address to name: its offset in the object, and what was found.
struct Query {
  std::size_t frame;
  std::uintptr_t offset;
  std::string name;
  std::uintptr_t into = 0;
  bool found = false;
};

// A read-only mapping of one ELF file, unmapped on destruction.
class ElfFile {
 public:
  explicit ElfFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(sizeof(ElfW(Ehdr)))) {
      void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        base_ = static_cast<const unsigned char*>(p);
        size_ = static_cast<std::size_t>(st.st_size);
      }
    }
    ::close(fd);
  }
  ~ElfFile() {
    if (base_) ::munmap(const_cast<unsigned char*>(base_), size_);
  }
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;

  // For each query offset (an address minus the load bias), the function
  // symbol that holds it and how far into it the address is. One pass over
  // the table for all of them: a program's table can hold 100k symbols.
  void lookup(std::vector<Query>& queries) const {
    const auto* eh = header();
    if (!eh) return;
    for (const ElfW(Word) type : {SHT_SYMTAB, SHT_DYNSYM}) {
      for (unsigned i = 0; i < eh->e_shnum; ++i) {
        const ElfW(Shdr)* sh = section(i);
        if (!sh || sh->sh_type != type || sh->sh_entsize != sizeof(ElfW(Sym))) continue;
        const ElfW(Shdr)* strs = section(sh->sh_link);
        if (!strs || !in_file(sh->sh_offset, sh->sh_size) || !in_file(strs->sh_offset, strs->sh_size)) continue;
        find_in(*sh, *strs, queries);
      }
    }
  }

 private:
  bool in_file(std::uint64_t off, std::uint64_t len) const { return off <= size_ && len <= size_ - off; }

  const ElfW(Ehdr)* header() const {
    if (!base_ || std::memcmp(base_, ELFMAG, SELFMAG) != 0 || base_[EI_CLASS] != ELFCLASS64) return nullptr;
    const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(base_);
    if (eh->e_shentsize != sizeof(ElfW(Shdr)) || !in_file(eh->e_shoff, std::uint64_t{eh->e_shnum} * sizeof(ElfW(Shdr)))) {
      return nullptr;
    }
    return eh;
  }

  const ElfW(Shdr)* section(unsigned i) const {
    const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(base_);
    if (i >= eh->e_shnum) return nullptr;
    return reinterpret_cast<const ElfW(Shdr)*>(base_ + eh->e_shoff) + i;
  }

  void find_in(const ElfW(Shdr)& symtab, const ElfW(Shdr)& strtab, std::vector<Query>& queries) const {
    const auto* syms = reinterpret_cast<const ElfW(Sym)*>(base_ + symtab.sh_offset);
    const std::size_t count = symtab.sh_size / sizeof(ElfW(Sym));
    const char* strings = reinterpret_cast<const char*>(base_ + strtab.sh_offset);
    for (std::size_t k = 0; k < count; ++k) {
      const ElfW(Sym)& s = syms[k];
      const unsigned type = ELF64_ST_TYPE(s.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF || s.st_value == 0) continue;
      if (s.st_name >= strtab.sh_size) continue;
      const std::uintptr_t size = s.st_size ? s.st_size : 1;
      for (Query& q : queries) {
        if (q.found || q.offset < s.st_value || q.offset - s.st_value >= size) continue;
        q.name.assign(strings + s.st_name, ::strnlen(strings + s.st_name, strtab.sh_size - s.st_name));
        q.into = q.offset - s.st_value;
        q.found = true;
      }
    }
  }

  const unsigned char* base_ = nullptr;
  std::size_t size_ = 0;
};

std::string demangle(const std::string& name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status),
                                                  &std::free);
  return status == 0 && out ? std::string(out.get()) : name;
}

}  // namespace

// noinline: the caller is found by this frame's own return address.
__attribute__((noinline)) Backtrace Backtrace::capture(std::size_t skip) noexcept {
  std::array<void*, kMaxFrames + 8> raw;
  const auto n = static_cast<std::size_t>(::backtrace(raw.data(), static_cast<int>(raw.size())));
  // The frames above the caller are backtrace()'s and this function's, and
  // more of them when a sanitizer intercepts backtrace(): start where the
  // caller is, found by the address this call returns to.
  void* const caller = __builtin_return_address(0);
  std::size_t first = 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (raw[i] == caller) {
      first = i;
      break;
    }
  }
  Backtrace bt;
  for (std::size_t i = first + skip; i < n && bt.size_ < kMaxFrames; ++i) bt.frames_[bt.size_++] = raw[i];
  return bt;
}

std::string Backtrace::to_string() const {
  // Which object holds each frame, then one symbol-table pass per object.
  std::vector<FindModule> where(size_);
  std::map<std::string, std::vector<Query>> by_object;
  for (std::size_t i = 0; i < size_; ++i) {
    // A return address: the call that made the frame is the byte before it.
    where[i].pc = reinterpret_cast<std::uintptr_t>(frames_[i]) - 1;
    dl_iterate_phdr(find_module_cb, &where[i]);
    if (where[i].ok) by_object[where[i].found.path].push_back(Query{i, where[i].pc - where[i].found.bias, {}});
  }
  std::vector<const Query*> named(size_, nullptr);
  for (auto& [path, queries] : by_object) {
    ElfFile(path).lookup(queries);
    for (const Query& q : queries) {
      if (q.found) named[q.frame] = &q;
    }
  }
  std::string out;
  char number[48];
  for (std::size_t i = 0; i < size_; ++i) {
    std::snprintf(number, sizeof number, "#%zu ", i);
    out += number;
    if (named[i]) {
      out += demangle(named[i]->name);
      std::snprintf(number, sizeof number, "+0x%zx", static_cast<std::size_t>(named[i]->into + 1));
      out += number;
    } else {
      out += "??";
    }
    if (where[i].ok) {
      std::snprintf(number, sizeof number, "+0x%zx)", static_cast<std::size_t>(where[i].pc + 1 - where[i].found.bias));
      out += " (" + where[i].found.path + number;
    } else {
      std::snprintf(number, sizeof number, " (%p)", frames_[i]);
      out += number;
    }
    out += '\n';
  }
  return out;
}

}  // namespace tasklets
