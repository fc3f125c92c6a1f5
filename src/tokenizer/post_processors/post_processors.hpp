#pragma once
// Hugging Face post-processors: special tokens around the sequences (TemplateProcessing, Bert,
// Roberta) and ByteLevel offset trimming.
#include <memory>
#include <vector>

#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class TemplateProcessor : public PostProcessor {
 public:
  TemplateProcessor(std::vector<TemplatePiece> single, std::vector<TemplatePiece> pair)
      : single_(std::move(single)), pair_(std::move(pair)) {}
  bool plan(bool pair, std::vector<TemplatePiece>& out) const override;

 private:
  std::vector<TemplatePiece> single_, pair_;
};

// BertProcessing ([CLS] A [SEP] B [SEP]) and RobertaProcessing (<s> A </s></s> B </s>).
class ClsSepProcessor : public PostProcessor {
 public:
  ClsSepProcessor(TemplatePiece cls, TemplatePiece sep, bool roberta, bool trim_offsets,
                  bool add_prefix_space)
      : cls_(std::move(cls)),
        sep_(std::move(sep)),
        roberta_(roberta),
        trim_offsets_(trim_offsets),
        add_prefix_space_(add_prefix_space) {}
  bool plan(bool pair, std::vector<TemplatePiece>& out) const override;
  void adjust(std::string_view text, const std::vector<std::string>& tokens,
              std::vector<std::pair<size_t, size_t>>& offsets) const override;
  bool template_type_ids_without_specials() const override { return false; }

 private:
  TemplatePiece cls_, sep_;
  bool roberta_, trim_offsets_, add_prefix_space_;
};

class ByteLevelProcessor : public PostProcessor {
 public:
  ByteLevelProcessor(bool trim_offsets, bool add_prefix_space)
      : trim_offsets_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  void adjust(std::string_view text, const std::vector<std::string>& tokens,
              std::vector<std::pair<size_t, size_t>>& offsets) const override;

 private:
  bool trim_offsets_, add_prefix_space_;
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> stages)
      : stages_(std::move(stages)) {}
  bool plan(bool pair, std::vector<TemplatePiece>& out) const override;
  void adjust(std::string_view text, const std::vector<std::string>& tokens,
              std::vector<std::pair<size_t, size_t>>& offsets) const override;
  bool template_type_ids_without_specials() const override;

 private:
  std::vector<std::unique_ptr<PostProcessor>> stages_;
};

// ByteLevel's trim_offsets: offsets shrink to exclude the leading/trailing whitespace of a token
// (its byte-level 'Ġ' characters), keeping the leading one when `add_prefix_space` and it is first.
void trim_byte_level_offsets(std::string_view text, const std::vector<std::string>& tokens,
                             std::vector<std::pair<size_t, size_t>>& offsets, bool add_prefix_space);

}  // namespace ortlm::tok
