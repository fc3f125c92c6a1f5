#include "zip/token_codec.hpp"

#include "ortlm/error.hpp"
#include "zip/frequencies.hpp"
#include "zip/range_coder.hpp"

namespace ortlm::zip {

EncodedChunks encode_tokens(const model::Decoder& decoder, std::span<const std::vector<int32_t>> chunks,
                            const PassLayout& layout, const PassProgress& progress) {
  std::vector<uint32_t> counts;
  std::vector<RangeEncoder> encoders;
  counts.reserve(chunks.size());
  encoders.reserve(chunks.size());
  for (const auto& c : chunks) {
    counts.push_back(static_cast<uint32_t>(c.size()));
    encoders.emplace_back(kTotalBits);
  }
  EncodedChunks out;
  out.payloads.resize(chunks.size());
  FrequencyTable table;
  run_model_passes(
      decoder, counts, layout.rows_per_pass, layout.start_token,
      [&](size_t chunk, uint32_t position, std::span<const float> logits) {
        const int32_t token = chunks[chunk][position];
        table.build(logits);
        if (token < 0 || token >= table.size())
          throw Error("LLMzip: token id " + std::to_string(token) + " is outside the model's vocabulary");
        encoders[chunk].encode(table.cum(token), table.freq(token));
        out.ideal_bits += table.ideal_bits(token);
        if (position + 1 == counts[chunk]) out.payloads[chunk] = encoders[chunk].finish();
        return token;
      },
      progress);
  return out;
}

std::vector<std::vector<int32_t>> decode_tokens(const model::Decoder& decoder,
                                                std::span<const uint32_t> tokens,
                                                std::span<const std::string_view> payloads,
                                                const PassLayout& layout,
                                                const std::function<std::string(size_t)>& names,
                                                const PassProgress& progress) {
  std::vector<std::vector<int32_t>> out(tokens.size());
  std::vector<RangeDecoder> decoders;
  decoders.reserve(tokens.size());
  for (size_t c = 0; c < tokens.size(); ++c) {
    out[c].reserve(tokens[c]);
    const auto* bytes = reinterpret_cast<const uint8_t*>(payloads[c].data());
    decoders.emplace_back(std::span<const uint8_t>(bytes, payloads[c].size()), kTotalBits);
  }
  FrequencyTable table;
  run_model_passes(
      decoder, tokens, layout.rows_per_pass, layout.start_token,
      [&](size_t chunk, uint32_t position, std::span<const float> logits) {
        table.build(logits);
        RangeDecoder& d = decoders[chunk];
        uint32_t slot = 0, cum = 0;
        if (!d.peek(slot))
          throw Error("LLMzip: " + names(chunk) +
                      " is damaged: its coded bytes leave the coder's interval at token " +
                      std::to_string(position));
        const int32_t token = table.find(slot, cum);
        d.consume(cum, table.freq(token));
        out[chunk].push_back(token);
        if (position + 1 == tokens[chunk] && d.bytes_read() < payloads[chunk].size())
          throw Error("LLMzip: " + names(chunk) +
                      " is damaged: " + std::to_string(payloads[chunk].size() - d.bytes_read()) +
                      " coded bytes are left after its last token");
        return token;
      },
      progress);
  return out;
}

}  // namespace ortlm::zip
