#pragma once
// A compiled Jinja template: parse once, render many times. Errors are ortlm::Error with
// "<name>:<line>:<column>: <message>".
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "template/ast.hpp"
#include "template/evaluator.hpp"

namespace ortlm::tpl {

class Template {
 public:
  // Throws ortlm::Error on a syntax error.
  explicit Template(std::string source, std::string name = "template");

  // `context` must be a JSON object: its members become global variables. Throws ortlm::Error.
  std::string render(const nlohmann::ordered_json& context, const Limits& limits = {}) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::string name_;
  std::vector<NodePtr> program_;

  [[noreturn]] void raise(size_t pos, const std::string& message) const;
};

}  // namespace ortlm::tpl
