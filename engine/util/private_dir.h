// Directories for caches whose content is trusted as our own output (the
// compiled Hyperscan databases, the Sigma parse cache): what is read back
// from them is used as compiled rules without being compiled again, so
// nobody but this user may be able to write there. A shared directory
// (/tmp/...) would let any local user plant a cache file that turns rules
// off, or feed hs_deserialize_database bytes it was never meant to see.
#pragma once

#include <filesystem>
#include <string>

namespace gsoc {

// Creates `dir` (mode 0700, its parents as usual) when it is missing, then
// requires it to be a directory itself (not a symbolic link), owned by the
// effective user and not writable by group or others. False with `error`
// ("<dir>: owned by uid 1001, not by uid 0", "<dir>: writable by group or
// others (mode 0777)", "<dir>: a symbolic link", "<dir>: cannot create:
// ...") otherwise; the directory is then not to be used.
bool EnsurePrivateDirectory(const std::filesystem::path& dir, std::string* error);

// The user's own cache directory for gsocctl's rule caches:
// $XDG_CACHE_HOME/gsoc, else $HOME/.cache/gsoc (absolute values only),
// else <temp>/gsoc-cache-<uid> (EnsurePrivateDirectory refuses it if
// another user made it first).
std::filesystem::path UserRuleCacheDir();

}  // namespace gsoc
