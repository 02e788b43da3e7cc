#include "store/display_replay.hpp"

#include <spice/enums.h>

#include "store/message_loader.hpp"

namespace sc::store {

Result<DisplaySessionInfo> find_display_session(Database& db, const DisplaySelection& sel) {
  std::string where = " WHERE c.type = " + std::to_string(SPICE_CHANNEL_DISPLAY);
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
    return make_error("no display channel matches" + std::string(sel.session ? " that session" : "") +
                      (sel.channel ? " that channel" : "") + (sel.capture ? " in that capture" : "") +
                      " (see `spice-capture sessions` and `channels --type display`)");
  }
  DisplaySessionInfo info;
  const auto& first = rows->rows.front();
  info.capture = std::get<int64_t>(first[0]);
  info.session_row = std::get<int64_t>(first[1]);
  info.session_id = std::get<int64_t>(first[2]);
  info.capture_first_ts = static_cast<uint64_t>(std::get<int64_t>(first[4]));
  std::pair<int64_t, int64_t> last_key{-1, -1};
  for (const auto& r : rows->rows) {
    const std::pair<int64_t, int64_t> key{std::get<int64_t>(r[0]), std::get<int64_t>(r[1])};
    if (key != last_key) ++info.sessions_with_display;
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

Result<void> replay_display(Database& db, const DisplaySessionInfo& session, display::DisplayState& state,
                            const std::function<bool(const DisplayStep&)>& before) {
  std::string in;
  for (int64_t c : session.channels) in += (in.empty() ? "" : ",") + std::to_string(c);
  Statement scan(db.handle(), "SELECT id, channel, ts_ns FROM message_rows WHERE channel IN (" + in +
                                  ") ORDER BY ts_ns, id");
  MessageLoader loader(db.handle());
  LoadedMessage m;
  std::string error;
  for (;;) {
    auto more = scan.step();
    if (!more) return more.error();
    if (!*more) break;
    const DisplayStep step{scan.column_int(0), scan.column_int(1), static_cast<uint64_t>(scan.column_int(2))};
    if (before && !before(step)) break;
    if (!loader.load(step.message, m, error)) {
      if (!error.empty()) return make_error("message " + std::to_string(step.message) + ": " + error);
      continue;
    }
    const auto conn = static_cast<uint32_t>(step.channel);
    state.apply_frame(conn, step.ts_ns, m.frame);
  }
  loader.release();
  return {};
}

}  // namespace sc::store
