// Filesystem helpers; see fs.h.
#include <common/util/fs.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace orrery {

std::optional<std::string> EnsurePrivateDir(const std::filesystem::path& dir)
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fmt::format("cannot create {}: {}", dir.string(), ec.message());
    if (::chmod(dir.c_str(), 0700) != 0) {
        return fmt::format("cannot set mode 0700 on {}: {}", dir.string(), std::strerror(errno));
    }
    return std::nullopt;
}

std::optional<std::string> WritePrivateFile(const std::filesystem::path& path, std::string_view data)
{
    std::filesystem::path tmp = path;
    tmp += fmt::format(".tmp{}", ::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fmt::format("cannot create {}: {}", tmp.string(), std::strerror(errno));
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            std::string error = fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno));
            ::close(fd);
            ::unlink(tmp.c_str());
            return error;
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return fmt::format("cannot flush {}: {}", tmp.string(), std::strerror(errno));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string error = fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), std::strerror(errno));
        ::unlink(tmp.c_str());
        return error;
    }
    return std::nullopt;
}

std::optional<std::string> ReadFileToString(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

} // namespace orrery
