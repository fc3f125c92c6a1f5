#include "util/file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "ortlm/error.hpp"

namespace ortlm::util {

std::string read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path.string() + ": is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  std::string data;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw Error(path.string() + ": cannot read (not a regular file?)");
  data.resize(static_cast<size_t>(size));
  in.seekg(0, std::ios::beg);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) throw Error(path.string() + ": read failed");
  return data;
}

namespace {

template <typename Json>
Json parse_with_origin(const std::string& text, const std::string& origin) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(origin + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& origin) {
  return parse_with_origin<nlohmann::json>(text, origin);
}

nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& origin) {
  return parse_with_origin<nlohmann::ordered_json>(text, origin);
}

nlohmann::ordered_json read_ordered_json_file(const std::filesystem::path& path) {
  return parse_ordered_json(read_file(path), path.string());
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  return parse_json(read_file(path), path.string());
}

}  // namespace ortlm::util
