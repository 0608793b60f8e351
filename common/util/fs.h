// Filesystem helpers for the datadir layout (private folders, key files).
#ifndef ORRERY_COMMON_UTIL_FS_H
#define ORRERY_COMMON_UTIL_FS_H

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace orrery {

//! Creates `dir` (and parents) if needed and makes it mode 0700. Returns an error message or nullopt.
std::optional<std::string> EnsurePrivateDir(const std::filesystem::path& dir);
//! Writes `data` to `path` atomically (temp file, fsync, rename) with mode 0600.
std::optional<std::string> WritePrivateFile(const std::filesystem::path& path, std::string_view data);
//! Reads a whole file; nullopt if it cannot be read.
std::optional<std::string> ReadFileToString(const std::filesystem::path& path);

} // namespace orrery

#endif // ORRERY_COMMON_UTIL_FS_H
