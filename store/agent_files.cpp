#include "store/agent_files.hpp"

#include <spice/protocol.h>
#include <spice/vd_agent.h>
#include <sqlite3.h>

#include "dissect/agent/agent_stream.hpp"
#include "dissect/decode/decoder.hpp"
#include "dissect/framing/frame.hpp"
#include "dissect/proto/spice.hpp"
#include "util/sha256.hpp"

namespace sc::store {

Result<StoredTransfer> stored_transfer(Database& db, int64_t row) {
  auto t = db.query(
      "SELECT id, channel, transfer_id, dir, coalesce(name, ''), status, coalesce(sha256, ''), content, bytes_seen, "
      "first_offset, last_offset FROM file_transfers WHERE id = ?",
      {Cell{row}});
  if (!t) return t.error();
  if (t->rows.empty()) return make_error("no file transfer " + std::to_string(row) + " (see `files list`)");
  const auto& r = t->rows[0];
  StoredTransfer s;
  s.row = std::get<int64_t>(r[0]);
  s.channel = std::get<int64_t>(r[1]);
  s.transfer_id = static_cast<uint32_t>(std::get<int64_t>(r[2]));
  s.dir = static_cast<uint8_t>(std::get<int64_t>(r[3]));
  s.name = std::get<std::string>(r[4]);
  s.status = std::get<std::string>(r[5]);
  s.sha256 = std::get<std::string>(r[6]);
  s.content = std::get<std::string>(r[7]);
  s.bytes_seen = static_cast<uint64_t>(std::get<int64_t>(r[8]));
  s.first_offset = static_cast<uint64_t>(std::get<int64_t>(r[9]));
  s.last_offset = static_cast<uint64_t>(std::get<int64_t>(r[10]));
  return s;
}

Result<uint64_t> read_transfer(Database& db, const StoredTransfer& t,
                               const std::function<void(std::span<const uint8_t>)>& sink) {
  if (t.content == "redacted") return make_error("its content was redacted at import (--redact)");
  auto header = db.query("SELECT header FROM channels WHERE id = ?", {Cell{t.channel}});
  if (!header || header->rows.empty()) return make_error("its main channel is missing");
  const auto* kind = std::get_if<std::string>(&header->rows[0][0]);
  const size_t header_size = kind && *kind == "full" ? framing::kFullHeaderSize : framing::kMiniHeaderSize;
  const auto& reg = schema::Registry::spice();
  const auto* data_def = reg.find(proto::kAgentLayer, static_cast<schema::Direction>(t.dir), VD_AGENT_FILE_XFER_DATA);
  // The carriers in order, streamed (a file may be large); spice_raw reads each
  // one's bytes out of its chunk.
  Statement carriers(db.handle(),
                     "SELECT m.stream_offset, spice_raw(m.id) FROM message_rows m WHERE m.channel = ?1 AND m.dir = ?2 "
                     "AND m.type = ?3 AND m.stream_offset BETWEEN ?4 AND ?5 ORDER BY m.stream_offset");
  carriers.bind(1, t.channel)
      .bind(2, int64_t{t.dir})
      .bind(3, t.dir == 0 ? int64_t{SPICE_MSGC_MAIN_AGENT_DATA} : int64_t{SPICE_MSG_MAIN_AGENT_DATA})
      .bind(4, static_cast<int64_t>(t.first_offset))
      .bind(5, static_cast<int64_t>(t.last_offset));
  agent::AgentStream stream;
  agent::AgentStream::Output out;
  decode::DecodedMessage decoded;
  util::Sha256 sha;
  uint64_t written = 0;
  for (;;) {
    auto more = carriers.step();
    if (!more) return more.error();
    if (!*more) break;
    sqlite3_stmt* st = carriers.get();
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(st, 1));
    const size_t n = static_cast<size_t>(sqlite3_column_bytes(st, 1));
    if (!p || n < header_size) return make_error("a stored main.agent_data message cannot be read");
    out.clear();
    stream.feed(std::span(p + header_size, n - header_size), static_cast<uint64_t>(sqlite3_column_int64(st, 0)), out);
    for (const auto& m : out.messages) {
      if (m.header.type != VD_AGENT_FILE_XFER_DATA || !data_def) continue;
      decode::decode_message(*data_def, m.body, {}, decoded);
      const auto* id = decoded.find("agent.file_xfer_data.id");
      const auto* data = decoded.find("agent.file_xfer_data.data");
      if (!id || id->number != t.transfer_id || !data) continue;
      const auto bytes = std::span(m.body).subspan(data->offset, data->size);
      sha.update(bytes);
      sink(bytes);
      written += bytes.size();
    }
  }
  if (written != t.bytes_seen || sha.hex() != t.sha256) {
    return make_error("the bytes rebuilt from the store (" + std::to_string(written) +
                      ") do not match what import saw (" + std::to_string(t.bytes_seen) + " bytes, sha256 " +
                      t.sha256 + ")");
  }
  return written;
}

}  // namespace sc::store
