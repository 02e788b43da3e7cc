#include "store/import_writer.hpp"

#include <spice/enums.h>

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/json.hpp"
#include "store/schema.hpp"

namespace sc::store {

using schema::Direction;

namespace {

std::string caps_json(const decode::CapSet& caps, std::span<const schema::CapName> names) {
  std::string out = "[";
  for (size_t w = 0; w < caps.words.size(); ++w) {
    for (uint32_t bit = 0; bit < 32; ++bit) {
      if (!((caps.words[w] >> bit) & 1u)) continue;
      const uint32_t index = static_cast<uint32_t>(w * 32 + bit);
      std::string name = "bit" + std::to_string(index);
      for (const auto& n : names) {
        if (n.index == index) name = n.name;
      }
      if (out.size() > 1) out += ',';
      decode::append_json_string(out, name);
    }
  }
  return out + "]";
}

size_t dir_index(Direction d) { return static_cast<size_t>(d); }

}  // namespace

ImportWriter::ImportWriter(Database& db, int64_t capture_id)
    : db_(db), capture_id_(capture_id),
      insert_channel_(db.handle(),
                      "INSERT INTO channels (capture_id, client, server, tls, midstream, first_ts_ns) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
      update_channel_(db.handle(),
                      "UPDATE channels SET connection_id=?2, type=?3, type_name=?4, channel_id=?5, header=?6, "
                      "auth=?7, link_error=?8, client_common_caps=?9, client_channel_caps=?10, "
                      "server_common_caps=?11, server_channel_caps=?12, c2s_bytes=?13, s2c_bytes=?14, "
                      "c2s_messages=?15, s2c_messages=?16, first_ts_ns=?17, last_ts_ns=?18 WHERE id=?1"),
      insert_message_(db.handle(),
                      "INSERT INTO messages (channel, ts_ns, direction, stream_offset, serial, type, name, size, "
                      "wire_size, raw, fields) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"),
      insert_problem_(db.handle(),
                      "INSERT INTO problems (capture_id, channel, message, direction, stream_offset, offset, "
                      "severity, code, path, text) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
      insert_session_(db.handle(),
                      "INSERT INTO sessions (capture_id, session_id, server, first_ts_ns, last_ts_ns) "
                      "VALUES (?1,?2,?3,?4,?4)"),
      find_session_(db.handle(), "SELECT id FROM sessions WHERE capture_id=?1 AND session_id=?2"),
      touch_session_(db.handle(),
                     "UPDATE sessions SET first_ts_ns=min(first_ts_ns, ?2), last_ts_ns=max(last_ts_ns, ?3) WHERE id=?1"),
      set_channel_session_(db.handle(), "UPDATE channels SET session=?2 WHERE id=?1") {}

void ImportWriter::check(const Result<bool>& r) {
  if (!r && status_.ok()) status_ = r.error();
}

void ImportWriter::on_open(const capture::ConnectionInfo& c) {
  Channel& ch = channels_[c.id];
  ch.first_ts = ch.last_ts = c.first_ts_ns;
  insert_channel_.reset();
  insert_channel_.bind(1, capture_id_)
      .bind(2, c.client.to_string())
      .bind(3, c.server.to_string())
      .bind(4, int64_t{c.tls})
      .bind(5, int64_t{c.midstream})
      .bind(6, static_cast<int64_t>(c.first_ts_ns));
  check(insert_channel_.step());
  ch.row = sqlite3_last_insert_rowid(db_.handle());
}

int64_t ImportWriter::session_for(uint32_t session_id, const capture::ConnectionInfo& c, uint64_t ts) {
  if (auto it = sessions_.find(session_id); it != sessions_.end()) return it->second;
  find_session_.reset();
  find_session_.bind(1, capture_id_).bind(2, int64_t{session_id});
  int64_t row = 0;
  auto found = find_session_.step();
  check(found);
  if (found && *found) {
    row = find_session_.column_int(0);
  } else {
    insert_session_.reset();
    insert_session_.bind(1, capture_id_)
        .bind(2, int64_t{session_id})
        .bind(3, c.server.to_string())
        .bind(4, static_cast<int64_t>(ts));
    check(insert_session_.step());
    row = sqlite3_last_insert_rowid(db_.handle());
  }
  sessions_[session_id] = row;
  return row;
}

void ImportWriter::attach(Channel& ch, int64_t session) {
  if (ch.session == session) return;
  ch.session = session;
  set_channel_session_.reset();
  set_channel_session_.bind(1, ch.row).bind(2, session);
  check(set_channel_session_.step());
}

void ImportWriter::add_problem(const Channel& ch, std::optional<int64_t> message, Direction dir,
                               uint64_t stream_offset, std::optional<uint32_t> offset, decode::Severity sev,
                               std::string_view code, std::string_view path, std::string_view text) {
  insert_problem_.reset();
  insert_problem_.bind(1, capture_id_).bind(2, ch.row);
  if (message) insert_problem_.bind(3, *message); else insert_problem_.bind_null(3);
  insert_problem_.bind(4, schema::direction_name(dir)).bind(5, static_cast<int64_t>(stream_offset));
  if (offset) insert_problem_.bind(6, int64_t{*offset}); else insert_problem_.bind_null(6);
  insert_problem_.bind(7, decode::severity_name(sev)).bind(8, code);
  if (path.empty()) insert_problem_.bind_null(9); else insert_problem_.bind(9, path);
  insert_problem_.bind(10, text);
  check(insert_problem_.step());
  ++problems_;
}

void ImportWriter::on_frame(const capture::ConnectionInfo& c, const framing::Frame& f,
                            const framing::ChannelState& s) {
  Channel& ch = channels_[c.id];
  const auto& reg = schema::Registry::spice();
  const size_t d = dir_index(f.dir);
  ch.bytes[d] += f.wire.size();
  ch.count[d] += 1;
  ch.last_ts = std::max(ch.last_ts, f.ts_ns);

  std::string name;
  json_.clear();
  if (f.def) {
    name = f.def->full_name;
    decode::decode_message(*f.def, f.body, f.def->is_link() ? decode::NegotiatedCaps{} : s.negotiated, decoded_);
    // Bytes longer than a few words stay only in the raw column: the JSON points at them.
    decode::append_json(decoded_, f.body, json_, {.bytes_inline_limit = 16});
  } else {
    decoded_.clear();
    name = reg.channel_name(s.channel_type) + (f.undecodable ? ".undecodable" : ".unknown");
  }

  insert_message_.reset();
  insert_message_.bind(1, ch.row)
      .bind(2, static_cast<int64_t>(f.ts_ns))
      .bind(3, schema::direction_name(f.dir))
      .bind(4, static_cast<int64_t>(f.stream_offset));
  if (f.serial) insert_message_.bind(5, static_cast<int64_t>(*f.serial)); else insert_message_.bind_null(5);
  if (f.def && f.def->is_link()) insert_message_.bind_null(6);
  else if (f.undecodable) insert_message_.bind_null(6);
  else insert_message_.bind(6, int64_t{f.type});
  insert_message_.bind(7, name)
      .bind(8, static_cast<int64_t>(f.body.size()))
      .bind(9, static_cast<int64_t>(f.wire.size()))
      .bind_blob(10, f.wire);
  if (f.def) insert_message_.bind_static(11, json_); else insert_message_.bind_null(11);
  check(insert_message_.step());
  const int64_t id = sqlite3_last_insert_rowid(db_.handle());
  ++messages_;

  const uint32_t header = static_cast<uint32_t>(f.wire.size() - f.body.size());
  for (const auto& diag : decoded_.diagnostics) {
    add_problem(ch, id, f.dir, f.stream_offset, header + diag.offset, diag.severity, diag.code, diag.path, diag.text);
  }
  if (!f.def && !f.undecodable) {
    add_problem(ch, id, f.dir, f.stream_offset, 0, decode::Severity::Warning, "unknown_type", "",
                "message type " + std::to_string(f.type) + " is not defined for the " +
                    reg.channel_name(s.channel_type) + " channel in this direction; kept as bytes");
  }
  if (f.sub_list != 0) {
    add_problem(ch, id, f.dir, f.stream_offset, header + f.sub_list, decode::Severity::Info, "sub_list", "",
                "message carries a sub-message list at body offset " + std::to_string(f.sub_list) +
                    "; its entries are kept as bytes");
  }
  // The main channel's init names the session every other channel joins.
  if (f.def && f.def->channel_type == SPICE_CHANNEL_MAIN && f.def->type == SPICE_MSG_MAIN_INIT &&
      f.dir == Direction::S2C) {
    if (const auto* v = decoded_.find("main.init.session_id")) {
      attach(ch, session_for(static_cast<uint32_t>(v->number), c, f.ts_ns));
    }
  }
}

void ImportWriter::on_problem(const capture::ConnectionInfo& c, const framing::Problem& p,
                              const framing::ChannelState&) {
  add_problem(channels_[c.id], std::nullopt, p.dir, p.stream_offset, std::nullopt, p.severity, p.code, "", p.text);
}

void ImportWriter::on_channel_known(const capture::ConnectionInfo& c, const framing::ChannelState& s) {
  // Non-main channels name their session in the link message.
  if (s.connection_id != 0 && s.channel_type != SPICE_CHANNEL_MAIN) {
    attach(channels_[c.id], session_for(s.connection_id, c, channels_[c.id].first_ts));
  }
}

void ImportWriter::on_close(const capture::ConnectionInfo& c, const framing::ChannelState& s, uint64_t) {
  Channel& ch = channels_[c.id];
  const auto& reg = schema::Registry::spice();
  const auto* def = reg.channel(s.channel_type);
  std::span<const schema::CapName> channel_caps;
  if (def) channel_caps = def->caps;
  auto& u = update_channel_;
  u.reset();
  u.bind(1, ch.row).bind(2, int64_t{s.connection_id});
  if (s.channel_type) {
    u.bind(3, int64_t{s.channel_type}).bind(4, reg.channel_name(s.channel_type)).bind(5, int64_t{s.channel_id});
  } else {
    u.bind_null(3).bind_null(4).bind_null(5);
  }
  if (s.header != framing::HeaderKind::Unknown) u.bind(6, framing::header_kind_name(s.header)); else u.bind_null(6);
  if (s.auth.empty()) u.bind_null(7); else u.bind(7, s.auth);
  if (s.link_error) {
    static const auto* names = [] {
      const auto& r = schema::Registry::spice();
      const auto* m = r.link(schema::LinkStep::Result);
      return r.node(r.node(m->root).children[0]).type->names;
    }();
    u.bind(8, names->describe(*s.link_error));
  } else {
    u.bind_null(8);
  }
  u.bind(9, caps_json(s.client_common, reg.common_caps()))
      .bind(10, caps_json(s.client_channel, channel_caps))
      .bind(11, caps_json(s.server_common, reg.common_caps()))
      .bind(12, caps_json(s.server_channel, channel_caps))
      .bind(13, static_cast<int64_t>(ch.bytes[0]))
      .bind(14, static_cast<int64_t>(ch.bytes[1]))
      .bind(15, static_cast<int64_t>(ch.count[0]))
      .bind(16, static_cast<int64_t>(ch.count[1]))
      .bind(17, static_cast<int64_t>(ch.first_ts))
      .bind(18, static_cast<int64_t>(ch.last_ts));
  check(u.step());
  if (ch.session) {
    touch_session_.reset();
    touch_session_.bind(1, ch.session).bind(2, static_cast<int64_t>(ch.first_ts)).bind(3, static_cast<int64_t>(ch.last_ts));
    check(touch_session_.step());
  }
}

Result<ImportSummary> import_capture(Database& db, const std::string& path, const capture::ImportOptions& options,
                                     const capture::ProgressFn& progress) {
  if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return make_error(db.path() + ": " + r.error().message);
  auto rollback = [&](Error e) -> Result<ImportSummary> {
    (void)db.exec("ROLLBACK");
    return e;
  };
  std::string opts = "{\"ports\":[";
  for (size_t i = 0; i < options.ports.size(); ++i) opts += (i ? "," : "") + std::to_string(options.ports[i]);
  opts += "]}";
  Statement ins(db.handle(), "INSERT INTO captures (path, options) VALUES (?1, ?2)");
  ins.bind(1, path).bind(2, opts);
  if (auto r = ins.step(); !r) return rollback(make_error(db.path() + ": " + r.error().message));
  ImportSummary summary;
  summary.capture_id = sqlite3_last_insert_rowid(db.handle());

  // Into an empty table, building the message indexes once at the end is cheaper
  // than maintaining them row by row (about 15% of a large import).
  const bool bulk = [&] {
    auto t = db.query("SELECT NOT EXISTS (SELECT 1 FROM messages)");
    return t && std::get<int64_t>(t->rows[0][0]) == 1;
  }();
  if (bulk) (void)db.exec("DROP INDEX IF EXISTS messages_by_channel; DROP INDEX IF EXISTS messages_by_name;");

  ImportWriter writer(db, summary.capture_id);
  auto stats = capture::import_file(path, writer, options, progress);
  if (!stats) return rollback(stats.error());
  if (!writer.status()) return rollback(make_error(db.path() + ": " + writer.status().error().message));
  summary.stats = *stats;
  summary.messages = writer.messages();
  summary.problems = writer.problems();
  if (stats->spice_connections == 0) {
    (void)db.exec("ROLLBACK");
    summary.no_spice = true;
    return summary;
  }

  Statement upd(db.handle(),
                "UPDATE captures SET linktype=?2, file_bytes=?3, packets=?4, first_ts_ns=?5, last_ts_ns=?6, "
                "truncated=?7 WHERE id=?1");
  upd.bind(1, summary.capture_id)
      .bind(2, int64_t{stats->linktype})
      .bind(3, static_cast<int64_t>(stats->file_bytes))
      .bind(4, static_cast<int64_t>(stats->packets))
      .bind(5, static_cast<int64_t>(stats->first_ts_ns))
      .bind(6, static_cast<int64_t>(stats->last_ts_ns))
      .bind(7, int64_t{stats->truncated});
  if (auto r = upd.step(); !r) return rollback(make_error(db.path() + ": " + r.error().message));
  if (stats->truncated) {
    Statement p(db.handle(),
                "INSERT INTO problems (capture_id, severity, code, text) VALUES (?1, 'error', 'truncated_file', ?2)");
    p.bind(1, summary.capture_id).bind(2, path + ": capture file ends inside a packet (" + stats->read_error + ")");
    if (auto r = p.step(); !r) return rollback(make_error(db.path() + ": " + r.error().message));
    ++summary.problems;
  }
  if (bulk) {
    if (auto r = db.exec(message_indexes_sql()); !r) return rollback(make_error(db.path() + ": " + r.error().message));
  }
  if (auto r = db.exec("COMMIT"); !r) return rollback(make_error(db.path() + ": " + r.error().message));
  return summary;
}

}  // namespace sc::store
