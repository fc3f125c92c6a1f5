#include "template/template.hpp"

#include "ortlm/error.hpp"
#include "template/json_format.hpp"
#include "template/lexer.hpp"
#include "template/parser.hpp"
#include "template/text.hpp"

namespace ortlm::tpl {

Template::Template(std::string source, std::string name)
    : source_(std::move(source)), name_(std::move(name)) {
  size_t bad = utf8::find_invalid(source_);
  if (bad != std::string::npos) raise(bad, "invalid UTF-8 in template");
  try {
    program_ = parse(tokenize(source_), source_.size());
  } catch (const SyntaxError& e) {
    raise(e.pos, e.message);
  }
}

void Template::raise(size_t pos, const std::string& message) const {
  auto [line, column] = text::line_column(source_, pos);
  throw Error(name_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message);
}

std::string Template::render(const nlohmann::ordered_json& context, const Limits& limits) const {
  if (!context.is_object()) throw Error("template context must be a JSON object");
  Interpreter interp(limits);
  Env globals;
  try {
    install_globals(interp, globals);
    for (const auto& [key, value] : context.items()) {
      if (globals.vars.count(key)) throw Error("template variable '" + key + "' is already declared");
      globals.vars[key] = from_json(value, interp.heap());
    }
    interp.limit_memory_after_input();
    return interp.run(program_, globals);
  } catch (const RenderError& e) {
    if (e.pos < 0) throw Error(name_ + ": " + e.message);
    raise(size_t(e.pos), e.message);
  }
}

}  // namespace ortlm::tpl
