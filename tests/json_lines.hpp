#pragma once
// The JSON objects a command printed one per line (`--json` with several prompts or sequences).
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace ortlm::test {

inline std::vector<nlohmann::json> json_lines(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.front() == '{') out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace ortlm::test
