#include "store/agent_rows.hpp"

#include <spice/vd_agent.h>
#include <sqlite3.h>

#include "dissect/decode/json.hpp"

namespace sc::store {
namespace {

// Names from the description, so the tables say what `fields` says.
const schema::ValueNames* names_of(std::string_view path) {
  const auto& reg = schema::Registry::spice();
  for (const auto& n : reg.nodes()) {
    if (n.path == path) return n.type->names;
  }
  return nullptr;
}

}  // namespace

std::string clipboard_type_name(uint32_t type) {
  static const auto* names = names_of("agent.clipboard.type");
  auto n = names ? names->name_of(type) : std::string_view{};
  return n.empty() ? "type_" + std::to_string(type) : std::string(n);
}

std::string clipboard_selection_name(uint32_t selection) {
  static const auto* names = names_of("agent.clipboard.selection");
  auto n = names ? names->name_of(selection) : std::string_view{};
  return n.empty() ? "selection_" + std::to_string(selection) : std::string(n);
}

void AgentRowMaker::on_agent_message(const agent::AgentMessageEvent& e) {
  AgentMessageRow r;
  r.ts_ns = e.ts_ns;
  r.dir = static_cast<uint8_t>(e.dir);
  r.first_offset = e.message.span.first_carrier;
  r.last_offset = e.message.span.last_carrier;
  r.header_at = e.message.span.first_offset;
  r.type = e.message.header.type;
  r.name = e.def ? e.def->full_name : "agent.unknown";
  r.opaque = e.message.header.opaque;
  r.size = e.message.header.size;
  if (e.def) {
    std::string json;
    decode::append_json(e.decoded, e.message.body, json, {.bytes_inline_limit = 64, .redact = redact_});
    r.fields = std::move(json);
    r.summary = decode::to_text(e.decoded, e.message.body, 200, redact_);
  }
  emit_(std::move(r));
}

void AgentRowMaker::on_clipboard(const agent::ClipboardItem& c) {
  ClipboardRow r;
  r.ts_ns = c.ts_ns;
  r.dir = static_cast<uint8_t>(c.dir);
  if (c.selection) r.selection = clipboard_selection_name(*c.selection);
  r.type = clipboard_type_name(c.type);
  r.size = c.data.size();
  r.sha256 = c.sha256;
  r.serial = c.serial;
  r.redacted = (redact_ & schema::kSecretClipboard) != 0;
  if (!r.redacted) {
    // Text is kept as text, so sqlite3 shows it and a query can search it.
    std::span<const uint8_t> text = c.data;
    while (!text.empty() && text.back() == 0) text = text.first(text.size() - 1);
    const std::string_view chars(reinterpret_cast<const char*>(text.data()), text.size());
    if (c.type == VD_AGENT_CLIPBOARD_UTF8_TEXT && decode::valid_utf8(chars) &&
        chars.find('\0') == std::string_view::npos) {
      r.content = std::string(text.begin(), text.end());
    } else if (!c.data.empty()) {
      r.content = std::vector<uint8_t>(c.data.begin(), c.data.end());
    }
  }
  emit_(std::move(r));
}

void AgentRowMaker::on_transfer_end(const agent::FileTransfer& t) {
  TransferRow r;
  r.info = t;
  // The file's bytes travel in main.agent_data, which any agent redaction blanks whole.
  const bool blanked = (redact_ & (schema::kSecretFiles | schema::kSecretClipboard)) != 0;
  r.content = blanked ? "redacted" : t.bytes_lost ? "partial" : "stored";
  if (t.last_data_ns > t.start_ns && t.bytes_seen > 0)
    r.rate_bps = double(t.bytes_seen) * 1e9 / double(t.last_data_ns - t.start_ns);
  emit_(std::move(r));
}

AgentTables::AgentTables(Database& db)
    : message_(db.handle(),
               "INSERT INTO agent_messages (channel, ts_ns, dir, first_offset, header_at, last_offset, type, name_id, "
               "opaque, size, fields, summary) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"),
      clipboard_(db.handle(),
                 "INSERT INTO clipboard (channel, agent_message, ts_ns, dir, selection, type, size, sha256, serial, "
                 "redacted, content) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"),
      transfer_(db.handle(),
                "INSERT INTO file_transfers (channel, transfer_id, dir, name, declared_size, bytes_seen, sha256, status, "
                "status_from, error, start_ts_ns, end_ts_ns, rate_bps, first_offset, last_offset, content) "
                "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)") {}

Result<void> AgentTables::insert(int64_t channel, const AgentRow& row, int64_t name_id) {
  auto i64 = [](uint64_t v) { return static_cast<int64_t>(v); };
  Statement* st = nullptr;
  if (const auto* m = std::get_if<AgentMessageRow>(&row)) {
    st = &message_;
    st->reset();
    st->bind(1, channel).bind(2, i64(m->ts_ns)).bind(3, int64_t{m->dir}).bind(4, i64(m->first_offset));
    st->bind(5, int64_t{m->header_at}).bind(6, i64(m->last_offset)).bind(7, int64_t{m->type}).bind(8, name_id);
    st->bind(9, i64(m->opaque)).bind(10, i64(m->size));
    if (m->fields) st->bind(11, *m->fields); else st->bind_null(11);
    if (m->summary) st->bind(12, *m->summary); else st->bind_null(12);
  } else if (const auto* c = std::get_if<ClipboardRow>(&row)) {
    st = &clipboard_;
    st->reset();
    st->bind(1, channel);
    if (auto it = last_message_.find(channel); it != last_message_.end()) st->bind(2, it->second); else st->bind_null(2);
    st->bind(3, i64(c->ts_ns)).bind(4, int64_t{c->dir});
    if (c->selection) st->bind(5, *c->selection); else st->bind_null(5);
    st->bind(6, c->type).bind(7, i64(c->size)).bind(8, c->sha256);
    if (c->serial) st->bind(9, int64_t{*c->serial}); else st->bind_null(9);
    st->bind(10, int64_t{c->redacted});
    if (const auto* text = std::get_if<std::string>(&c->content)) st->bind(11, *text);
    else if (const auto* bytes = std::get_if<std::vector<uint8_t>>(&c->content)) st->bind_blob(11, *bytes);
    else st->bind_null(11);
  } else if (const auto* t = std::get_if<TransferRow>(&row)) {
    const auto& f = t->info;
    st = &transfer_;
    st->reset();
    st->bind(1, channel).bind(2, int64_t{f.id}).bind(3, int64_t{static_cast<uint8_t>(f.dir)}).bind(4, f.name);
    if (f.declared_size) st->bind(5, i64(*f.declared_size)); else st->bind_null(5);
    st->bind(6, i64(f.bytes_seen)).bind(7, f.sha256).bind_static(8, agent::status_name(f.status));
    st->bind(9, int64_t{static_cast<uint8_t>(f.status_from)});
    if (f.error.empty()) st->bind_null(10); else st->bind(10, f.error);
    st->bind(11, i64(f.start_ns));
    if (f.end_ns) st->bind(12, i64(f.end_ns)); else st->bind_null(12);
    if (t->rate_bps) st->bind_double(13, *t->rate_bps); else st->bind_null(13);
    st->bind(14, i64(f.first_carrier)).bind(15, i64(f.last_carrier)).bind(16, t->content);
  }
  if (!st) return {};
  auto r = st->step();
  if (!r) return r.error();
  if (std::holds_alternative<AgentMessageRow>(row)) last_message_[channel] = sqlite3_last_insert_rowid(sqlite3_db_handle(st->get()));
  return {};
}

void AgentRowMaker::on_diagnostic(const agent::AgentDiagnostic& d) {
  emit_(AgentProblemRow{static_cast<uint8_t>(d.dir), d.carrier, d.ts_ns, d.severity, d.code, d.text});
}

}  // namespace sc::store
