// Conformance: every chat template x conversation renders byte-for-byte like @huggingface/jinja
// (run at test time through tests/reference/render_templates.mjs), and fails where it fails.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "ortlm/chat_template.hpp"
#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

const fs::path kRoot = ORTLM_SOURCE_DIR;

ojson load(const fs::path& path) { return ojson::parse(ortlm::util::read_file(path)); }

ojson expected_cases() {
  fs::path jinja = kRoot / "tests/reference/node_modules/@huggingface/jinja";
  if (!fs::exists(jinja)) {
    ADD_FAILURE() << jinja << " is missing: run scripts/setup.sh to install the reference packages";
    return ojson::array();
  }
  fs::path out =
      fs::temp_directory_path() / ("ortlm_template_expected_" + std::to_string(::getpid()) + ".json");
  std::string command = "node \"" + (kRoot / "tests/reference/render_templates.mjs").string() + "\" \"" +
                        out.string() + "\" > /dev/null";
  int rc = std::system(command.c_str());
  if (rc != 0) {
    ADD_FAILURE() << "the reference renderer failed (exit status " << rc << "): " << command;
    return ojson::array();
  }
  ojson doc = load(out);
  fs::remove(out);
  return doc["cases"];
}

}  // namespace

TEST(TemplateConformance, MatchesHuggingFaceJinja) {
  ojson cases = expected_cases();
  ASSERT_FALSE(cases.empty());
  std::map<std::string, ojson> conversations;
  std::map<std::string, std::pair<int, int>> per_template;  // identical, total
  int identical = 0;
  for (const auto& c : cases) {
    std::string label = c["template"].get<std::string>() + " x " + c["conversation"].get<std::string>() +
                        (c["add_generation_prompt"].get<bool>() ? " (+generation prompt)" : "");
    std::string conv_name = c["conversation"];
    if (!conversations.count(conv_name))
      conversations[conv_name] = load(kRoot / "tests/data/conversations" / (conv_name + ".json"));
    const ojson& conv = conversations[conv_name];

    ortlm::ChatTemplateOptions options;
    options.add_generation_prompt = c["add_generation_prompt"];
    options.tools = conv.value("tools", ojson());
    options.documents = conv.value("documents", ojson());
    options.kwargs = conv.value("kwargs", ojson::object());
    std::optional<std::string> output, error;
    try {
      ortlm::ChatTemplate chat = ortlm::ChatTemplate::from_string("");
      if (c["kind"] == "model_folder") {
        chat = ortlm::ChatTemplate::from_model_folder(kRoot / c["path"].get<std::string>());
      } else {
        chat = ortlm::ChatTemplate::from_string(ortlm::util::read_file(kRoot / c["path"].get<std::string>()));
        options.bos_token = c["special_tokens"]["bos_token"];
        options.eos_token = c["special_tokens"]["eos_token"];
      }
      output = chat.render(conv["messages"], options);
    } catch (const ortlm::Error& e) {
      error = e.what();
    }
    auto& stats = per_template[c["template"]];
    ++stats.second;
    if (c["ok"].get<bool>()) {
      if (!output) {
        ADD_FAILURE() << label << ": expected output, got error: " << *error;
        continue;
      }
      const std::string want = c["output"];
      if (*output != want) {
        if (const char* dump =
                std::getenv("ORTLM_TEMPLATE_DUMP")) {  // for debugging: both texts side by side
          std::ofstream(fs::path(dump) / (label + ".expected")) << want;
          std::ofstream(fs::path(dump) / (label + ".got")) << *output;
        }
        size_t at = 0;
        while (at < want.size() && at < output->size() && want[at] == (*output)[at]) ++at;
        size_t from = at > 60 ? at - 60 : 0;
        ADD_FAILURE() << label << ": output differs at byte " << at << "\n--- expected\n"
                      << want.substr(from, 160) << "\n--- got\n"
                      << output->substr(from, 160);
        continue;
      }
    } else if (!error) {
      ADD_FAILURE() << label << ": the reference fails (" << c["error"].get<std::string>()
                    << ") but ortlm rendered:\n"
                    << *output;
      continue;
    }
    ++identical;
    ++stats.first;
  }
  for (const auto& [name, stats] : per_template)
    std::printf("  %-18s %d/%d identical\n", name.c_str(), stats.first, stats.second);
  std::printf("template conformance: %d/%zu cases identical (%zu templates x %zu conversations x 2)\n",
              identical, cases.size(), per_template.size(), conversations.size());
  EXPECT_EQ(identical, int(cases.size()));
}
