// Reading configuration-like input (indicator lists, decoder files) that a
// third party may supply: only a regular file is read, never a FIFO, a
// device or a socket (opened with O_NONBLOCK, so even opening a FIFO does
// not wait for a writer, then checked with fstat before any read), and
// never more than `max_bytes` (checked against the size first, then while
// reading, so a file that grows is cut short too). Symbolic links are
// followed: what they point to must be a regular file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace gsoc {

// Calls on_chunk with consecutive pieces of the file (at most 64 KiB each).
// on_chunk returns false (with `error` set) to stop. Returns false with
// `error` ("<file>: not a regular file (a FIFO)", "<file>: larger than N
// bytes", "<file>: cannot open: ...") on failure.
bool ReadRegularFile(
    const std::filesystem::path& file, uint64_t max_bytes,
    const std::function<bool(std::string_view chunk, std::string* error)>& on_chunk,
    std::string* error);

// The whole file into `out` (same rules).
bool ReadRegularFile(const std::filesystem::path& file, uint64_t max_bytes, std::string* out,
                     std::string* error);

// The reason of a ReadRegularFile error ("not a regular file (a FIFO);
// refused"), without the "<file>: " it starts with: for loaders whose
// diagnostics name the file already.
std::string_view WithoutFileName(std::string_view error, std::string_view file);

// Writes `data` to a temporary file beside `file` (<file>.tmp.<pid>) and
// renames it over `file`, creating the directory: a reader sees the old
// file or the whole new one. For caches: best effort (false, nothing
// thrown, the temporary removed, when it cannot) and no fsync (after a
// crash the file may be gone or torn; the caches' readers check it).
bool WriteFileAtomically(const std::filesystem::path& file, std::string_view data);

}  // namespace gsoc
