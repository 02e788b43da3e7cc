#pragma once
// The compression of stream chunks (the chunks table): LZ4 where it pays, the bytes
// as they are where it does not (already-compressed images, tiny chunks).
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace sc::store {

struct PackedChunk {
  std::string_view codec;  // "lz4" or "none"
  std::vector<uint8_t> data;
};

PackedChunk pack_chunk(std::span<const uint8_t> bytes);
// The same into `out`, reusing its buffer.
void pack_chunk(std::span<const uint8_t> bytes, PackedChunk& out);
// `size` is the chunk's decompressed size as stored; anything else is a damaged chunk.
Result<void> unpack_chunk(std::string_view codec, std::span<const uint8_t> data, size_t size,
                          std::vector<uint8_t>& out);

}  // namespace sc::store
