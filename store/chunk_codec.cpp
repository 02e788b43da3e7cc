#include "store/chunk_codec.hpp"

#include <lz4.h>

#include <cstring>

namespace sc::store {

void pack_chunk(std::span<const uint8_t> bytes, PackedChunk& out) {
  if (bytes.size() >= 64 && bytes.size() <= static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    // resize() on a reused buffer: no allocation (nor page faults) per chunk.
    out.data.resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(bytes.size()))));
    // LZ4's faster settings (acceleration 2..8) measured no faster here, and larger.
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(bytes.data()),
                                       reinterpret_cast<char*>(out.data.data()), static_cast<int>(bytes.size()),
                                       static_cast<int>(out.data.size()));
    // Below a 1/16 saving the decompression on every read is not worth it.
    if (n > 0 && static_cast<size_t>(n) < bytes.size() - bytes.size() / 16) {
      out.data.resize(static_cast<size_t>(n));
      out.codec = "lz4";
      return;
    }
  }
  out.codec = "none";
  out.data.assign(bytes.begin(), bytes.end());
}

PackedChunk pack_chunk(std::span<const uint8_t> bytes) {
  PackedChunk out;
  pack_chunk(bytes, out);
  return out;
}

Result<void> unpack_chunk(std::string_view codec, std::span<const uint8_t> data, size_t size,
                          std::vector<uint8_t>& out) {
  // A stored size is checked before it is allocated: LZ4 expands at most 255-fold,
  // and a database may come from anyone.
  if ((codec == "none" && size != data.size()) || size > 255 * data.size() + 64) {
    return make_error("stored chunk claims " + std::to_string(size) + " bytes from " + std::to_string(data.size()));
  }
  out.resize(size);
  if (codec == "none") {
    if (data.size() != size) return make_error("stored chunk has " + std::to_string(data.size()) + " bytes, expected " +
                                               std::to_string(size));
    if (size) std::memcpy(out.data(), data.data(), size);
    return {};
  }
  if (codec != "lz4") return make_error("unknown chunk codec '" + std::string(codec) + "'");
  if (size > static_cast<size_t>(LZ4_MAX_INPUT_SIZE) || data.size() > static_cast<size_t>(INT32_MAX)) {
    return make_error("stored chunk too large");
  }
  const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(data.data()), reinterpret_cast<char*>(out.data()),
                                    static_cast<int>(data.size()), static_cast<int>(size));
  if (n < 0 || static_cast<size_t>(n) != size) return make_error("damaged LZ4 chunk");
  return {};
}

}  // namespace sc::store
