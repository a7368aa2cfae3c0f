#include "engine/util/build_id.h"

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>

namespace gsoc {

namespace {

struct Search {
  uintptr_t address = 0;  // of code in the object we look for
  std::string id;
};

// The NT_GNU_BUILD_ID note among the notes of [data, data + size).
bool FindNote(const char* data, size_t size, std::string* id) {
  size_t at = 0;
  while (size - at >= sizeof(ElfW(Nhdr))) {
    ElfW(Nhdr) header;
    std::memcpy(&header, data + at, sizeof(header));
    at += sizeof(header);
    const size_t name_size = (header.n_namesz + 3) & ~size_t{3};
    const size_t desc_size = (header.n_descsz + 3) & ~size_t{3};
    if (name_size > size - at || desc_size > size - at - name_size) return false;
    const char* name = data + at;
    const char* desc = name + name_size;
    if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
        std::memcmp(name, "GNU", 4) == 0) {
      id->assign(desc, header.n_descsz);
      return true;
    }
    at += name_size + desc_size;
  }
  return false;
}

bool Contains(const dl_phdr_info& info, uintptr_t address) {
  for (ElfW(Half) i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info.dlpi_phdr[i];
    const uintptr_t begin = info.dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD && address >= begin && address - begin < segment.p_memsz)
      return true;
  }
  return false;
}

int Visit(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  if (!Contains(*info, search->address)) return 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_NOTE) continue;
    const auto* notes = reinterpret_cast<const char*>(info->dlpi_addr + segment.p_vaddr);
    if (FindNote(notes, segment.p_memsz, &search->id)) break;
  }
  return 1;  // the object holding the address: stop
}

std::string ReadBuildId() {
  Search search;
  search.address = reinterpret_cast<uintptr_t>(&ReadBuildId);
  dl_iterate_phdr(Visit, &search);
  return search.id;
}

}  // namespace

const std::string& BuildId() {
  static const std::string id = ReadBuildId();
  return id;
}

}  // namespace gsoc
