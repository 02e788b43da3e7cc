#pragma once
// Transferred files read back out of the store. Their bytes are not copied into
// a table of their own: they are in the main channel's stream (chunks), so a file
// is rebuilt by reassembling the stored main.agent_data messages that span its
// transfer, with the same agent stream code import used.
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "store/database.hpp"

namespace sc::store {

struct StoredTransfer {
  int64_t row = 0;          // file_transfers.id
  int64_t channel = 0;
  uint32_t transfer_id = 0;
  uint8_t dir = 0;
  std::string name, status, sha256, content;
  uint64_t bytes_seen = 0;
  uint64_t first_offset = 0, last_offset = 0;
};

Result<StoredTransfer> stored_transfer(Database& db, int64_t row);

// Calls `sink` with the file's bytes in order; returns how many were written and
// checks them against the stored SHA-256 (an error when they differ, or when the
// content was redacted at import).
Result<uint64_t> read_transfer(Database& db, const StoredTransfer& t,
                               const std::function<void(std::span<const uint8_t>)>& sink);

}  // namespace sc::store
