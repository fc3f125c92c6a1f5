// gzip -9, xz -9 and zstd -19 sizes of a buffer, from the Debian libraries (what `--stats` compares
// LLMzip with).
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <string>
#include <vector>

#include "ortlm/error.hpp"
#include "ortlm/llmzip.hpp"

namespace ortlm::llmzip {

namespace {

uint64_t gzip_size(std::string_view input) {
  z_stream z{};
  // windowBits 15 + 16: gzip framing (header and CRC32 trailer), as `gzip -9` writes.
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error("zlib: deflateInit2 failed");
  std::vector<unsigned char> out(deflateBound(&z, static_cast<uLong>(input.size())) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&z, Z_FINISH);
  const uint64_t size = z.total_out;
  deflateEnd(&z);
  if (status != Z_STREAM_END) throw Error("zlib: deflate failed (" + std::to_string(status) + ")");
  return size;
}

uint64_t xz_size(std::string_view input) {
  std::vector<uint8_t> out(lzma_stream_buffer_bound(input.size()));
  size_t written = 0;
  const lzma_ret status =
      lzma_easy_buffer_encode(9, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(input.data()),
                              input.size(), out.data(), &written, out.size());
  if (status != LZMA_OK) throw Error("liblzma: encoding failed (" + std::to_string(status) + ")");
  return written;
}

uint64_t zstd_size(std::string_view input) {
  std::vector<char> out(ZSTD_compressBound(input.size()));
  const size_t written = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 19);
  if (ZSTD_isError(written)) throw Error(std::string("libzstd: ") + ZSTD_getErrorName(written));
  return written;
}

}  // namespace

BaselineSizes baseline_sizes(std::string_view input) {
  if (input.size() > (uint64_t{1} << 31)) throw Error("baseline sizes: inputs up to 2 GiB");
  return {gzip_size(input), xz_size(input), zstd_size(input)};
}

}  // namespace ortlm::llmzip
