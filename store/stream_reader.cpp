#include "store/stream_reader.hpp"

#include <string>

#include "store/chunk_codec.hpp"

namespace sc::store {

StreamReader::StreamReader(const Database& db, int64_t channel, int dir)
    : chunks_(db.handle(),
              "SELECT start, size, codec, data FROM chunks WHERE channel = ?1 AND dir = ?2 ORDER BY start"),
      channel_(channel) {
  chunks_.bind(1, channel).bind(2, int64_t{dir & 1});
}

Result<bool> StreamReader::next(StreamPiece& out) {
  if (done_) return false;
  auto more = chunks_.step();
  if (!more) return more.error();
  if (!*more) {
    done_ = true;
    bytes_.clear();
    // Let go of the statement at once: a finished one still pins the read snapshot.
    chunks_.reset();
    return false;
  }
  sqlite3_stmt* s = chunks_.get();
  const auto* codec = reinterpret_cast<const char*>(sqlite3_column_text(s, 2));
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(s, 3));
  const std::span<const uint8_t> packed{data, static_cast<size_t>(sqlite3_column_bytes(s, 3))};
  const int64_t start = sqlite3_column_int64(s, 0);
  const int64_t size = sqlite3_column_int64(s, 1);
  if (start < 0 || size < 0) return make_error("channel " + std::to_string(channel_) + ": a damaged chunk row");
  if (auto r = unpack_chunk(codec ? codec : "", packed, static_cast<size_t>(size), bytes_); !r) {
    return make_error("channel " + std::to_string(channel_) + ": chunk at offset " + std::to_string(start) +
                      " unreadable: " + r.error().message);
  }
  start_ = static_cast<uint64_t>(start);
  out = {start_, bytes_};
  return true;
}

Result<std::span<const uint8_t>> StreamReader::read(uint64_t offset, size_t size) {
  const auto missing = [&] {
    return make_error("channel " + std::to_string(channel_) + ": stream bytes " + std::to_string(offset) + "+" +
                      std::to_string(size) + " are not stored");
  };
  StreamPiece piece{start_, bytes_};
  // Forward to the chunk holding `offset`.
  while (piece.bytes.empty() || piece.start + piece.bytes.size() <= offset) {
    auto more = next(piece);
    if (!more) return more.error();
    if (!*more) return missing();
  }
  if (offset < piece.start) return missing();
  const size_t at = static_cast<size_t>(offset - piece.start);
  if (at + size <= piece.bytes.size()) return piece.bytes.subspan(at, size);
  // The range runs on into the following chunks: they must be contiguous.
  joined_.assign(piece.bytes.begin() + static_cast<std::ptrdiff_t>(at), piece.bytes.end());
  while (joined_.size() < size) {
    const uint64_t want = offset + joined_.size();
    auto more = next(piece);
    if (!more) return more.error();
    if (!*more || piece.start != want) return missing();
    const size_t take = std::min(piece.bytes.size(), size - joined_.size());
    joined_.insert(joined_.end(), piece.bytes.begin(), piece.bytes.begin() + static_cast<std::ptrdiff_t>(take));
  }
  return std::span<const uint8_t>(joined_);
}

}  // namespace sc::store
