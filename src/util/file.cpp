#include "util/file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>

#include "ortlm/error.hpp"

namespace ortlm::util {
namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (fs::is_directory(status)) throw Error(path.string() + ": is a folder, not a file");
  if (fs::exists(status) && !fs::is_regular_file(status))
    throw Error(path.string() + ": not a regular file (a FIFO, socket or device cannot be read as one)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  std::string data;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw Error(path.string() + ": cannot read (not a regular file?)");
  try {
    data.resize(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    throw Error(path.string() + ": too large to read (" + std::to_string(static_cast<long long>(size)) +
                " bytes)");
  }
  in.seekg(0, std::ios::beg);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) throw Error(path.string() + ": read failed");
  return data;
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  const fs::path temporary = path.string() + ".tmp-" + std::to_string(::getpid());
  auto fail = [&](const std::string& step, int error) {
    ::unlink(temporary.c_str());
    throw Error(path.string() + ": cannot " + step + ": " + std::strerror(error));
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create " + temporary.filename().string(), errno);
  for (size_t written = 0; written < bytes.size();) {
    const ssize_t put = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) {
      const int error = put < 0 ? errno : EIO;
      ::close(fd);
      fail("write", error);
    }
    written += static_cast<size_t>(put);
  }
  // Data on disk before the rename makes it visible; close() reports delayed write errors (NFS).
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    fail("write (fsync)", error);
  }
  if (::close(fd) != 0) fail("write (close)", errno);
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail("replace it", errno);
}

namespace {

// Refuses nesting deeper than kMaxJsonDepth before parsing, naming the byte: a linear scan that
// skips strings (where brackets are text), cheaper than the parse and safe on any input.
void check_json_depth(const std::string& text, const std::string& origin) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw Error(origin + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                    " levels at byte " + std::to_string(i + 1));
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

template <typename Json>
Json parse_with_origin(const std::string& text, const std::string& origin) {
  check_json_depth(text, origin);
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(origin + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    // out_of_range: a number too large for a double (1e999), which nlohmann does not place.
    throw Error(origin + ": invalid JSON: " + e.what());
  }
}

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& origin) {
  return parse_with_origin<nlohmann::json>(text, origin);
}

nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& origin) {
  return parse_with_origin<nlohmann::ordered_json>(text, origin);
}

nlohmann::ordered_json read_ordered_json_file(const fs::path& path) {
  return parse_ordered_json(read_file(path), path.string());
}

nlohmann::json read_json_file(const fs::path& path) { return parse_json(read_file(path), path.string()); }

}  // namespace ortlm::util
