// Generates from the model given on the command line with the installed library.
#include <cstdio>
#include <ortlm/ortlm.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto model = ortlm::Model::load(argv[1]);
  ortlm::Generator generator(model);
  ortlm::GenerationOptions options;
  options.greedy = true;
  options.max_new_tokens = 8;
  std::printf("%s\n", generator.generate("Once upon a time", options).text.c_str());
  return 0;
}
