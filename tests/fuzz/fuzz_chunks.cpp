// Stored stream chunks (store/chunk_codec): a database can come from anyone, so
// unpacking a chunk must survive any blob and any claimed size without crashing
// or allocating what the claim says; and whatever bytes are packed come back the same.
//
// Input: 1 byte codec (even: lz4, odd: none), 4 bytes claimed size (little-endian), the blob.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "store/chunk_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const std::string_view codec = (data[0] & 1) ? "none" : "lz4";
  const size_t claimed = size_t{data[1]} | size_t{data[2]} << 8 | size_t{data[3]} << 16 | size_t{data[4]} << 24;
  const std::span<const uint8_t> blob(data + 5, size - 5);
  std::vector<uint8_t> out;
  if (sc::store::unpack_chunk(codec, blob, claimed, out).ok() && out.size() != claimed) std::abort();

  // Packing the blob and unpacking it gives the blob back.
  const auto packed = sc::store::pack_chunk(blob);
  if (!sc::store::unpack_chunk(packed.codec, packed.data, blob.size(), out).ok()) std::abort();
  if (!std::equal(out.begin(), out.end(), blob.begin(), blob.end())) std::abort();
  return 0;
}
