#include "store/session_replay.hpp"

#include <algorithm>

namespace sc::store {

namespace {

std::string in_list(std::span<const uint8_t> types) {
  std::string s;
  for (uint8_t t : types) s += (s.empty() ? "" : ",") + std::to_string(t);
  return s;
}

}  // namespace

Result<SessionChannels> find_session(Database& db, const SessionSelection& sel, std::span<const uint8_t> types,
                                     std::string_view what, std::string_view type_name) {
  std::string where = " WHERE c.type IN (" + in_list(types) + ")";
  std::vector<Cell> p;
  if (sel.capture) { where += " AND c.capture_id = ?"; p.emplace_back(*sel.capture); }
  if (sel.session) { where += " AND s.session_id = ?"; p.emplace_back(*sel.session); }
  if (sel.channel) { where += " AND c.id = ?"; p.emplace_back(*sel.channel); }
  auto rows = db.query(
      "SELECT c.capture_id, coalesce(s.id, 0), coalesce(s.session_id, 0), c.id, coalesce(cap.first_ts_ns, 0),"
      " coalesce(c.first_ts_ns, 0), coalesce(c.last_ts_ns, 0) FROM channels c"
      " JOIN captures cap ON cap.id = c.capture_id LEFT JOIN sessions s ON s.id = c.session" + where +
      " ORDER BY c.capture_id, coalesce(s.id, 0), c.id", p);
  if (!rows) return rows.error();
  if (rows->rows.empty()) {
    return make_error("no " + std::string(what) + " channel matches" + std::string(sel.session ? " that session" : "") +
                      (sel.channel ? " that channel" : "") + (sel.capture ? " in that capture" : "") +
                      " (see `spice-capture sessions` and `channels --type " + std::string(type_name) + "`)");
  }
  SessionChannels info;
  const auto& first = rows->rows.front();
  info.capture = std::get<int64_t>(first[0]);
  info.session_row = std::get<int64_t>(first[1]);
  info.session_id = std::get<int64_t>(first[2]);
  info.capture_first_ts = static_cast<uint64_t>(std::get<int64_t>(first[4]));
  std::pair<int64_t, int64_t> last_key{-1, -1};
  for (const auto& r : rows->rows) {
    const std::pair<int64_t, int64_t> key{std::get<int64_t>(r[0]), std::get<int64_t>(r[1])};
    if (key != last_key) ++info.sessions_matching;
    last_key = key;
    if (key.first != info.capture || key.second != info.session_row) continue;
    // Channels not joined to any session are each their own: take only the first.
    if (info.session_row == 0 && !info.channels.empty()) continue;
    info.channels.push_back(std::get<int64_t>(r[3]));
    const auto f = static_cast<uint64_t>(std::get<int64_t>(r[5])), l = static_cast<uint64_t>(std::get<int64_t>(r[6]));
    if (f && (!info.first_ts || f < info.first_ts)) info.first_ts = f;
    info.last_ts = std::max(info.last_ts, l);
  }
  return info;
}

Result<std::vector<int64_t>> session_channels(Database& db, const SessionChannels& session,
                                              std::span<const uint8_t> types) {
  std::vector<int64_t> out;
  if (session.session_row == 0) return out;
  auto rows = db.query("SELECT id FROM channels WHERE capture_id = ? AND session = ? AND type IN (" + in_list(types) +
                           ") ORDER BY id",
                       {Cell{session.capture}, Cell{session.session_row}});
  if (!rows) return rows.error();
  for (const auto& r : rows->rows) out.push_back(std::get<int64_t>(r[0]));
  return out;
}

Result<void> replay_messages(Database& db, std::span<const int64_t> channels,
                             const std::function<bool(const ReplayStep&)>& before,
                             const std::function<void(const ReplayStep&, const LoadedMessage&)>& apply) {
  if (channels.empty()) return {};
  std::string in;
  for (int64_t c : channels) in += (in.empty() ? "" : ",") + std::to_string(c);
  Statement scan(db.handle(), "SELECT id, channel, ts_ns FROM message_rows WHERE channel IN (" + in +
                                  ") ORDER BY ts_ns, id");
  MessageLoader loader(db.handle());
  LoadedMessage m;
  std::string error;
  for (;;) {
    auto more = scan.step();
    if (!more) return more.error();
    if (!*more) break;
    const ReplayStep step{scan.column_int(0), scan.column_int(1), static_cast<uint64_t>(scan.column_int(2))};
    if (before && !before(step)) break;
    if (!loader.load(step.message, m, error)) {
      if (!error.empty()) return make_error("message " + std::to_string(step.message) + ": " + error);
      continue;
    }
    apply(step, m);
  }
  loader.release();
  return {};
}

}  // namespace sc::store
