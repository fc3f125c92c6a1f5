#pragma once
// The tree-walking interpreter, with @huggingface/jinja's runtime semantics (scoping, truthiness,
// output of values), plus limits so that no template can hang or exhaust memory.
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "template/ast.hpp"
#include "template/memory.hpp"
#include "template/value.hpp"

namespace ortlm::tpl {

// A variable scope. Lookups walk up the parents; assignments write to the scope itself.
struct Env {
  explicit Env(Env* parent_env = nullptr) : parent(parent_env) {}
  std::unordered_map<std::string, Value> vars;
  Env* parent = nullptr;

  Value lookup(const std::string& name) const;
};

struct Limits {
  int max_depth = 256;             // nested evaluation (expressions, blocks, macro calls)
  size_t max_output = 64u << 20;   // bytes of any rendered string
  uint64_t max_steps = 5'000'000;  // evaluated nodes and loop iterations in one render
  size_t max_range = 1'000'000;    // elements of one range()
  // Bytes the values of one render may hold at once: max_memory plus memory_per_input_byte times
  // what the input (the context) holds. A real template holds a few copies of its input (the
  // messages, the growing output, method results), so the input term lets a long conversation
  // render while a template alone cannot take more than max_memory.
  size_t max_memory = 256u << 20;
  size_t memory_per_input_byte = 8;
};

class Interpreter {
 public:
  explicit Interpreter(Limits limits = {})
      : limits_(limits), budget_(SIZE_MAX, limits.max_output), budget_scope_(budget_) {}
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Renders a parsed program in `globals` (which install_globals has filled). Throws RenderError.
  std::string run(const std::vector<NodePtr>& program, Env& globals);

  Value evaluate(const Node& node, Env& env);
  std::string block(const std::vector<NodePtr>& body, Env& env);
  CallArgs evaluate_arguments(const std::vector<NodePtr>& args, Env& env);
  Value call(const Value& callee, CallArgs& args, Env& env);

  Heap& heap() { return heap_; }
  const Limits& limits() const { return limits_; }
  // Once the input is loaded (unlimited until then: the caller already holds it), sets the
  // memory limit from max_memory and what the input holds.
  void limit_memory_after_input();
  // Fails when a string about to be produced would exceed the string limit or the memory budget.
  void check_size(size_t bytes) const { budget_.check_string(bytes); }
  void step();

 private:
  Limits limits_;
  MemoryBudget budget_;
  BudgetScope budget_scope_;  // before heap_: the render's values are released into budget_
  Heap heap_;
  int depth_ = 0;
  uint64_t steps_ = 0;

  Value evaluate_node(const Node& node, Env& env);
  Value binary(const Node& node, Env& env);
  Value unary(const Node& node, Env& env);
  Value member(const Node& node, Env& env);
  Value property(const Value& object, const Value& property);
  Value call_expression(const Node& node, Env& env);
  Value slice(const Value& object, const Node& node, Env& env);
  Value test(const Node& node, Env& env);
  Value object_literal(const Node& node, Env& env);
  Value set(const Node& node, Env& env);
  Value for_loop(const Node& node, Env& env);
  Value macro(const Node& node, Env& env);
  Value call_block(const Node& node, Env& env);
  void bind_arguments(const std::string& display_name, const std::vector<NodePtr>& params,
                      const std::vector<NodePtr>& body, CallArgs& args, Env& scope);
};

// Declares true/false/none, range, namespace, raise_exception, strftime_now in `env`.
void install_globals(Interpreter& interp, Env& env);
// `value | name` or `value | name(args)`.
Value apply_filter(Interpreter& interp, const Value& operand, const Node& filter, Env& env);
// `value is name(args)`.
bool apply_test(const std::string& name, const Value& operand, const std::vector<Value>& args);
bool has_test(const std::string& name);
// `object.name`: a Python-style method bound to `object`, a property such as `length`, or undefined.
Value builtin_member(Interpreter& interp, const Value& object, const std::string& name);
// `object.name(args)` when `name` is a built-in method of `object`, else nullopt.
std::optional<Value> call_builtin_method(Interpreter& interp, const Value& object, const std::string& name,
                                         CallArgs& args);
// Sorting comparison of @huggingface/jinja (numbers with numbers, strings with strings).
int compare_values(const Value& a, const Value& b, bool case_sensitive);

}  // namespace ortlm::tpl
