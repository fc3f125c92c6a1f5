// The LLMzip API (include/ortlm/llmzip.hpp): plan the chunks, code the model chunks over shared
// forward passes, assemble the archive; and the reverse, checking everything it can before the
// model runs and every chunk after.
#include "ortlm/llmzip.hpp"

#include <chrono>
#include <istream>
#include <iterator>
#include <ostream>

#include "model/decoder.hpp"
#include "ortlm/error.hpp"
#include "zip/checksum.hpp"
#include "zip/chunker.hpp"
#include "zip/container.hpp"
#include "zip/frequencies.hpp"
#include "zip/numerics.hpp"
#include "zip/token_codec.hpp"

namespace ortlm::llmzip {

struct Codec::Impl {
  std::shared_ptr<const Model> model;
  zip::Numerics numerics;
};

namespace {

using zip::ChunkKind;

// "chunk 3 of 10 (original bytes 8192-12287)", as errors name chunks.
std::string describe_chunk(const std::vector<zip::ChunkEntry>& chunks, const std::vector<uint64_t>& offsets,
                           size_t i) {
  return "chunk " + std::to_string(i) + " of " + std::to_string(chunks.size()) + " (original bytes " +
         std::to_string(offsets[i]) + "-" + std::to_string(offsets[i] + chunks[i].bytes - 1) + ")";
}

zip::PassProgress pass_progress(const Progress& progress, uint64_t total) {
  if (!progress) return {};
  return [progress, total](uint64_t done) { progress(done, total); };
}

// Codes the model chunks of `planned` (the others are skipped: they take no rows).
zip::EncodedChunks encode_model_chunks(const model::Decoder& decoder,
                                       const std::vector<zip::PlannedChunk>& planned,
                                       const zip::PassLayout& layout, const Progress& progress) {
  std::vector<std::vector<int32_t>> tokens;
  uint64_t total = 0;
  for (const auto& c : planned)
    if (c.kind == ChunkKind::model) {
      tokens.push_back(c.tokens);
      total += c.tokens.size();
    }
  return zip::encode_tokens(decoder, tokens, layout, pass_progress(progress, total));
}

std::string read_all(std::istream& in, const char* what) {
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(std::string("LLMzip: reading the ") + what + " failed");
  return bytes;
}

void write_all(std::ostream& out, const std::string& bytes, const char* what) {
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw Error(std::string("LLMzip: writing the ") + what + " failed");
}

}  // namespace

Codec::Codec(std::shared_ptr<const Model> model, const std::string& provider) {
  if (!model) throw Error("LLMzip: no model");
  auto numerics = zip::numerics_of(*model, provider);
  impl_ = std::make_unique<const Impl>(Impl{std::move(model), std::move(numerics)});
}

Codec::~Codec() = default;

std::string Codec::compress(std::string_view input, const CompressOptions& options,
                            CompressStats* stats) const {
  if (options.chunk_bytes < kMinChunkBytes || options.chunk_bytes > kMaxChunkBytes)
    throw Error("LLMzip: chunk_bytes must be in [" + std::to_string(kMinChunkBytes) + ", " +
                std::to_string(kMaxChunkBytes) + "], not " + std::to_string(options.chunk_bytes));
  if (options.rows_per_pass < 1 || options.rows_per_pass > kMaxRowsPerPass)
    throw Error("LLMzip: rows_per_pass must be in [1, " + std::to_string(kMaxRowsPerPass) + "], not " +
                std::to_string(options.rows_per_pass));
  const auto start = std::chrono::steady_clock::now();
  const Model& model = *impl_->model;
  const model::Decoder& decoder = model.decoder();
  const zip::Numerics& numerics = impl_->numerics;

  auto planned = zip::plan_chunks(*model.tokenizer(), input, {options.chunk_bytes, numerics.context});
  zip::ArchiveHeader header;
  header.numerics = numerics;
  header.rows_per_pass = static_cast<uint32_t>(
      zip::effective_rows_per_pass(decoder, static_cast<size_t>(options.rows_per_pass)));
  header.total_bits = zip::kTotalBits;
  header.original_bytes = input.size();
  header.original_checksum = zip::checksum64(input);
  const zip::PassLayout layout{header.rows_per_pass, numerics.start_token};
  auto encoded = encode_model_chunks(decoder, planned, layout, options.progress);
  // Chunks the model codes in more bytes than they have (text it predicts badly) are stored raw.
  // That changes the batch layout of the others, so they are coded again (once) in the new one.
  size_t next_model = 0;
  bool demoted = false;
  for (auto& c : planned) {
    if (c.kind != ChunkKind::model) continue;
    if (encoded.payloads[next_model++].size() >= c.size) {
      c.kind = ChunkKind::raw;
      c.tokens.clear();
      demoted = true;
    }
  }
  if (demoted) encoded = encode_model_chunks(decoder, planned, layout, options.progress);

  std::vector<std::string> payloads;
  payloads.reserve(planned.size());
  next_model = 0;
  uint64_t total_tokens = 0;
  for (const auto& c : planned) {
    const std::string_view bytes = input.substr(c.begin, c.size);
    header.chunks.push_back(
        {c.kind, c.size, static_cast<uint32_t>(c.tokens.size()), c.size, zip::checksum32(bytes)});
    if (c.kind == ChunkKind::model) {
      header.chunks.back().payload_bytes = encoded.payloads[next_model].size();
      payloads.push_back(std::move(encoded.payloads[next_model++]));
      total_tokens += c.tokens.size();
    } else {
      payloads.emplace_back(bytes);
    }
  }
  std::string archive = zip::write_archive(header, payloads);
  if (options.verify && decompress(archive) != input)
    throw Error(
        "LLMzip: --verify: the archive does not decompress to the input (a bug in ortlm: please report)");

  if (stats) {
    *stats = {};
    stats->input_bytes = input.size();
    stats->archive_bytes = archive.size();
    for (size_t i = 0; i < planned.size(); ++i) {
      if (planned[i].kind == ChunkKind::model) {
        ++stats->model_chunks;
        stats->model_bytes += planned[i].size;
        stats->payload_bytes += header.chunks[i].payload_bytes;
      } else {
        ++stats->raw_chunks;
        stats->raw_bytes += planned[i].size;
      }
    }
    stats->overhead_bytes = archive.size() - stats->payload_bytes - stats->raw_bytes;
    stats->tokens = total_tokens;
    stats->ideal_bits = encoded.ideal_bits;
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return archive;
}

std::string Codec::decompress(std::string_view bytes, const DecompressOptions& options) const {
  const zip::Archive archive = zip::read_archive(bytes);
  const zip::ArchiveHeader& header = archive.header;
  zip::check_numerics(header.numerics, impl_->numerics, options.force);
  if (header.rows_per_pass > static_cast<uint32_t>(kMaxRowsPerPass))
    throw Error("LLMzip archive: rows per pass " + std::to_string(header.rows_per_pass) + " is more than " +
                std::to_string(kMaxRowsPerPass));
  const auto& chunks = header.chunks;
  std::vector<uint64_t> offsets(chunks.size());
  for (size_t i = 1; i < chunks.size(); ++i) offsets[i] = offsets[i - 1] + chunks[i - 1].bytes;
  auto damaged = [&](size_t i, const std::string& why) {
    return Error("LLMzip: " + describe_chunk(chunks, offsets, i) + " " + why);
  };
  // Raw chunks first: a damaged one is found before the model runs.
  std::vector<uint32_t> tokens;
  std::vector<std::string_view> payloads;
  std::vector<size_t> model_chunk_index;
  uint64_t total_tokens = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].kind == ChunkKind::raw) {
      if (zip::checksum32(archive.payloads[i]) != chunks[i].checksum)
        throw damaged(i, "(stored raw) is damaged: its checksum does not match");
      continue;
    }
    tokens.push_back(chunks[i].tokens);
    payloads.push_back(archive.payloads[i]);
    model_chunk_index.push_back(i);
    total_tokens += chunks[i].tokens;
  }
  const zip::PassLayout layout{header.rows_per_pass, header.numerics.start_token};
  const auto decoded = zip::decode_tokens(
      impl_->model->decoder(), tokens, payloads, layout,
      [&](size_t c) { return describe_chunk(chunks, offsets, model_chunk_index[c]); },
      pass_progress(options.progress, total_tokens));

  const Tokenizer& tokenizer = *impl_->model->tokenizer();
  const std::string mismatch =
      "does not decode to its checksum: the archive is damaged, or this machine computes the model's "
      "probabilities differently from the one that compressed it";
  std::string out;
  out.reserve(static_cast<size_t>(std::min<uint64_t>(header.original_bytes, bytes.size() * 64)));
  size_t next_model = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].kind == ChunkKind::raw) {
      out += archive.payloads[i];
      continue;
    }
    std::string text;
    try {
      text = tokenizer.decode(decoded[next_model++], false);
    } catch (const Error& e) {
      throw damaged(i, mismatch + " (" + e.what() + ")");
    }
    if (text.size() != chunks[i].bytes || zip::checksum32(text) != chunks[i].checksum)
      throw damaged(i, mismatch);
    out += text;
  }
  if (zip::checksum64(out) != header.original_checksum)
    throw Error(
        "LLMzip: the decompressed bytes do not match the original's checksum (the archive is damaged)");
  return out;
}

void Codec::compress(std::istream& in, std::ostream& out, const CompressOptions& options,
                     CompressStats* stats) const {
  write_all(out, compress(read_all(in, "input"), options, stats), "archive");
}

void Codec::decompress(std::istream& in, std::ostream& out, const DecompressOptions& options) const {
  write_all(out, decompress(read_all(in, "archive"), options), "output");
}

ArchiveInfo inspect(std::string_view bytes) {
  const zip::Archive archive = zip::read_archive(bytes);
  const zip::ArchiveHeader& h = archive.header;
  const zip::Numerics& n = h.numerics;
  ArchiveInfo info{n.model_name,
                   zip::hex(n.model_sha256),
                   zip::hex(n.tokenizer_sha256),
                   n.ort_version,
                   n.attention,
                   n.provider,
                   n.cpu,
                   h.rows_per_pass,
                   h.original_bytes};
  info.chunks = h.chunks.size();
  for (const auto& c : h.chunks) {
    if (c.kind == ChunkKind::model) {
      ++info.model_chunks;
      info.tokens += c.tokens;
    } else {
      ++info.raw_chunks;
    }
  }
  info.overhead_bytes = archive.overhead_bytes;
  return info;
}

}  // namespace ortlm::llmzip
