#pragma once
// One channel direction's stored bytes read back in stream order, chunk by chunk
// (the chunks table, decompressed). Where two chunks are not contiguous the
// original capture lost bytes: the reader says so by where the next piece starts.
// Used by export-pcap and by tests that prove two stores hold the same streams.
#include <cstdint>
#include <span>
#include <vector>

#include "store/database.hpp"

namespace sc::store {

struct StreamPiece {
  uint64_t start = 0;             // stream offset of bytes[0]
  std::span<const uint8_t> bytes;  // valid until the reader's next call
};

class StreamReader {
 public:
  // dir: 0 client to server, 1 server to client. Reads inside whatever transaction
  // the caller holds on `db` (one read transaction gives a consistent snapshot
  // while an import is still writing).
  StreamReader(const Database& db, int64_t channel, int dir);
  StreamReader(StreamReader&&) noexcept = default;
  StreamReader& operator=(StreamReader&&) noexcept = default;

  // The next chunk; false at the end of the stored stream.
  Result<bool> next(StreamPiece& out);
  // The bytes [offset, offset + size), read forward: offsets must not go back
  // behind the chunk last read. An error when any of them is not stored.
  Result<std::span<const uint8_t>> read(uint64_t offset, size_t size);

 private:
  Statement chunks_;
  int64_t channel_;
  uint64_t start_ = 0;            // of bytes_
  std::vector<uint8_t> bytes_;    // the chunk last read
  std::vector<uint8_t> joined_;   // for a read across chunks (not made by our writer, but readable)
  bool done_ = false;
};

}  // namespace sc::store
