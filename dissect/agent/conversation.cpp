#include "dissect/agent/conversation.hpp"

#include <spice/enums.h>
#include <spice/protocol.h>
#include <spice/vd_agent.h>

#include <algorithm>

#include "dissect/agent/keyfile.hpp"
#include "dissect/decode/decoder.hpp"
#include "dissect/proto/spice.hpp"
#include "util/sha256.hpp"

namespace sc::agent {
namespace {

using decode::DecodedMessage;
using decode::Severity;

constexpr int idx(Direction d) { return static_cast<int>(d); }
std::string side_name(Direction d) { return d == Direction::C2S ? "client" : "guest"; }

std::optional<uint64_t> number(const DecodedMessage& m, std::string_view path) {
  if (const auto* v = m.find(path)) return v->number;
  return std::nullopt;
}

std::string ms(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", double(ns) / 1e6);
  return std::string(buf) + " ms";
}

}  // namespace

std::string_view status_name(FileTransfer::Status s) {
  static constexpr std::string_view kNames[] = {"in_progress", "success", "cancelled", "error", "not_enough_space",
                                                "session_locked", "agent_not_connected", "disabled", "incomplete"};
  return kNames[static_cast<size_t>(s)];
}

// What the main channel says about one direction of agent traffic.
struct Conversation::Side {
  AgentStream stream;
  std::optional<int64_t> tokens;  // agent_data messages this side may still send; unknown mid-session
  uint64_t exhausted_since = 0;   // ts when tokens reached 0 (0: not exhausted)
  uint64_t exhaustions = 0, longest_wait_ns = 0;
  bool warned_disconnected = false;
  explicit Side(AgentStream::Options o) : stream(o) {}
};

struct Conversation::Transfer {
  FileTransfer info;
  util::Sha256 sha;
  bool accepted = false;
  bool stall_reported = false;
};

Conversation::Conversation(Listener& listener, Options options) : listener_(listener), options_(options) {
  AgentStream::Options so;
  so.max_body = options.max_body;
  so.known_types = VD_AGENT_END_MESSAGE;
  sides_[0] = std::make_unique<Side>(so);
  sides_[1] = std::make_unique<Side>(so);
}

Conversation::~Conversation() = default;

void Conversation::start_midstream() {
  for (auto& s : sides_) s->stream.start_unsynced();
}

void Conversation::diagnose(Severity sev, std::string code, Direction dir, uint64_t carrier, uint64_t ts_ns,
                            std::string text) {
  listener_.on_diagnostic(AgentDiagnostic{sev, std::move(code), dir, carrier, ts_ns, std::move(text)});
}

void Conversation::grant(Direction dir, uint64_t tokens, bool absolute) {
  Side& s = *sides_[idx(dir)];
  if (absolute) {
    s.tokens = static_cast<int64_t>(tokens);
  } else if (s.tokens) {
    *s.tokens += static_cast<int64_t>(tokens);
  }
  if (s.exhausted_since && s.tokens && *s.tokens > 0) {
    s.longest_wait_ns = std::max(s.longest_wait_ns, last_ts_ - s.exhausted_since);
    s.exhausted_since = 0;
  }
}

void Conversation::use_token(Direction dir, uint64_t carrier, uint64_t ts_ns) {
  Side& s = *sides_[idx(dir)];
  if (!s.tokens) return;
  if (*s.tokens <= 0) {
    diagnose(Severity::Error, "agent_data_without_tokens", dir, carrier, ts_ns,
             side_name(dir) + " sent agent data with no agent tokens left (the peer may drop it)");
  }
  --*s.tokens;
  if (*s.tokens == 0 && !s.exhausted_since) {
    s.exhausted_since = ts_ns ? ts_ns : 1;
    ++s.exhaustions;
  }
}

void Conversation::on_main_message(Direction dir, const DecodedMessage& d, std::span<const uint8_t> body,
                                   uint64_t carrier, uint64_t ts_ns) {
  if (!d.def) return;
  last_ts_ = std::max(last_ts_, ts_ns);
  const uint16_t type = d.def->type;
  if (dir == Direction::S2C) {
    switch (type) {
      case SPICE_MSG_MAIN_INIT:
        connected_ = number(d, "main.init.agent_connected").value_or(0) != 0;
        if (auto t = number(d, "main.init.agent_tokens")) grant(Direction::C2S, *t, true);
        break;
      case SPICE_MSG_MAIN_AGENT_CONNECTED:
        connected_ = true;
        sides_[0]->warned_disconnected = false;
        break;
      case SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS:
        connected_ = true;
        sides_[0]->warned_disconnected = false;
        if (auto t = number(d, "main.agent_connected_tokens.num_tokens")) grant(Direction::C2S, *t, true);
        break;
      case SPICE_MSG_MAIN_AGENT_DISCONNECTED:
        connected_ = false;
        // A new agent starts from scratch: its stream and announcements are new.
        for (int side = 0; side < 2; ++side) {
          out_.clear();
          sides_[side]->stream.finish(carrier, out_);
          for (const auto& p : out_.problems)
            diagnose(Severity::Warning, std::string(problem_code_name(p.code)), Direction(side), p.carrier, ts_ns, p.text);
          sides_[side]->stream = AgentStream(AgentStream::Options{options_.max_body, VD_AGENT_END_MESSAGE});
        }
        caps_[0] = caps_[1] = {};
        negotiated_ = {};
        break;
      case SPICE_MSG_MAIN_AGENT_TOKEN:
        if (auto t = number(d, "main.agent_token.num_tokens")) grant(Direction::C2S, *t, false);
        break;
      case SPICE_MSG_MAIN_AGENT_DATA:
        on_agent_data(dir, body, carrier, ts_ns);
        break;
      default: break;
    }
  } else {
    switch (type) {
      case SPICE_MSGC_MAIN_AGENT_START:
        if (auto t = number(d, "main.agent_start.num_tokens")) grant(Direction::S2C, *t, true);
        break;
      case SPICE_MSGC_MAIN_AGENT_TOKEN:
        if (auto t = number(d, "main.agent_token.num_tokens")) grant(Direction::S2C, *t, false);
        break;
      case SPICE_MSGC_MAIN_AGENT_DATA:
        if (connected_ == false && !sides_[0]->warned_disconnected) {
          sides_[0]->warned_disconnected = true;
          diagnose(Severity::Warning, "agent_not_connected", dir, carrier, ts_ns,
                   "client sent agent data while no agent is connected (the server drops it)");
        }
        on_agent_data(dir, body, carrier, ts_ns);
        break;
      default: break;
    }
  }
  if (!transfers_.empty()) check_stalls(ts_ns, carrier);
}

void Conversation::on_frame(const framing::Frame& f, const decode::DecodedFrame& d) {
  if (f.def && !f.def->is_link()) {
    on_main_message(f.dir, d.own, d.own_body, f.stream_offset, f.ts_ns);
  } else if (f.undecodable) {
    on_gap(f.dir, f.stream_offset, f.ts_ns);
  }
}

void Conversation::on_framing_problem(const framing::Problem& p) {
  if (p.is_gap()) on_gap(p.dir, p.stream_offset, p.ts_ns);
}

void Conversation::on_gap(Direction dir, uint64_t carrier, uint64_t ts_ns) {
  out_.clear();
  sides_[idx(dir)]->stream.lose(carrier, out_);
  for (const auto& p : out_.problems)
    diagnose(Severity::Warning, std::string(problem_code_name(p.code)), dir, p.carrier, ts_ns, p.text);
  for (auto& [id, t] : transfers_) {
    if (t->info.dir == dir) t->info.bytes_lost = true;
  }
  sides_[idx(dir)]->tokens.reset();  // messages were lost: the count is unknown now
}

void Conversation::on_agent_data(Direction dir, std::span<const uint8_t> payload, uint64_t carrier, uint64_t ts_ns) {
  use_token(dir, carrier, ts_ns);
  out_.clear();
  sides_[idx(dir)]->stream.feed(payload, carrier, out_);
  for (const auto& p : out_.problems) {
    const Severity sev = p.code == StreamProblem::Code::Unsynced ? Severity::Info : Severity::Warning;
    diagnose(sev, std::string(problem_code_name(p.code)), dir, p.carrier, ts_ns, p.text);
  }
  // handle() may not reuse out_ while we walk it.
  std::vector<Message> done = std::move(out_.messages);
  for (const auto& m : done) handle(dir, m, ts_ns);
}

void Conversation::handle(Direction dir, const Message& m, uint64_t ts_ns) {
  const auto& reg = schema::Registry::spice();
  const schema::MessageDef* def = m.header.type < reg.max_type()
                                      ? reg.find(proto::kAgentLayer, dir, static_cast<uint16_t>(m.header.type))
                                      : nullptr;
  decoded_.clear();
  if (def && m.body_kept) decode::decode_message(*def, m.body, negotiated_, decoded_);
  listener_.on_agent_message(AgentMessageEvent{dir, m, m.body_kept ? def : nullptr, decoded_, ts_ns});
  if (!def) {
    diagnose(Severity::Info, "agent_unknown_type", dir, m.span.last_carrier, ts_ns,
             "agent message of unknown type " + std::to_string(m.header.type) + " (" +
                 std::to_string(m.header.size) + " bytes)");
    return;
  }
  if (!m.body_kept) return;
  for (const auto& x : decoded_.diagnostics) {
    diagnose(x.severity, "agent_" + x.code, dir, m.span.last_carrier, ts_ns, def->full_name + ": " + x.text);
  }
  switch (m.header.type) {
    case VD_AGENT_ANNOUNCE_CAPABILITIES: {
      decode::CapSet caps;
      for (const auto& v : decoded_.values) {
        const auto& path = reg.node(v.node).path;
        if (path == "agent.announce_capabilities.caps" || path == "agent.announce_capabilities.more_caps[]")
          caps.words.push_back(static_cast<uint32_t>(v.number));
      }
      caps_[idx(dir)] = std::move(caps);
      negotiated_.channel = decode::CapSet::intersect(caps_[0], caps_[1]);
      break;
    }
    case VD_AGENT_CLIPBOARD_GRAB:
    case VD_AGENT_CLIPBOARD_REQUEST:
    case VD_AGENT_CLIPBOARD_RELEASE: clipboard_control(dir, m, decoded_, ts_ns); break;
    case VD_AGENT_CLIPBOARD: clipboard_data(dir, m, decoded_, ts_ns); break;
    case VD_AGENT_MAX_CLIPBOARD:
      if (auto v = number(decoded_, "agent.max_clipboard.max")) max_clipboard_[idx(dir)] = static_cast<int32_t>(*v);
      break;
    case VD_AGENT_FILE_XFER_START: transfer_start(dir, m, decoded_, ts_ns); break;
    case VD_AGENT_FILE_XFER_STATUS: transfer_status(dir, m, decoded_, ts_ns); break;
    case VD_AGENT_FILE_XFER_DATA: transfer_data(dir, m, decoded_, ts_ns); break;
    default: break;
  }
}

void Conversation::clipboard_control(Direction dir, const Message& m, const DecodedMessage& d, uint64_t ts_ns) {
  const std::string name = d.def->name;  // clipboard_grab, clipboard_request, clipboard_release
  const uint32_t selection = static_cast<uint32_t>(number(d, "agent." + name + ".selection").value_or(0));
  const uint64_t carrier = m.span.last_carrier;
  const auto owner = owners_.find(selection);
  if (m.header.type == VD_AGENT_CLIPBOARD_GRAB) {
    std::optional<uint32_t> serial;
    if (auto s = number(d, "agent.clipboard_grab.serial")) serial = static_cast<uint32_t>(*s);
    if (serial && last_serial_[idx(dir)] && *serial < *last_serial_[idx(dir)]) {
      diagnose(Severity::Warning, "clipboard_serial_inversion", dir, carrier, ts_ns,
               side_name(dir) + " grabbed the clipboard with serial " + std::to_string(*serial) + " after serial " +
                   std::to_string(*last_serial_[idx(dir)]) + " (the peer ignores it)");
    }
    if (serial) last_serial_[idx(dir)] = serial;
    // Capture timestamps can go backwards (clock steps, merged files): only a later grab races.
    if (owner != owners_.end() && owner->second.side != dir && ts_ns >= owner->second.since_ns &&
        ts_ns - owner->second.since_ns < options_.race_ns) {
      diagnose(Severity::Warning, "clipboard_grab_race", dir, carrier, ts_ns,
               "client and guest grabbed the clipboard " + ms(ts_ns - owner->second.since_ns) +
                   " apart: each may believe the other owns it");
    }
    owners_[selection] = Owner{dir, ts_ns, serial};
  } else if (m.header.type == VD_AGENT_CLIPBOARD_RELEASE) {
    if (owner == owners_.end() || owner->second.side != dir) {
      diagnose(Severity::Info, "clipboard_release_not_owner", dir, carrier, ts_ns,
               side_name(dir) + " released a clipboard it had not grabbed" +
                   (owner == owners_.end() ? std::string() : " (" + side_name(owner->second.side) + " owns it)"));
    }
    if (owner != owners_.end() && owner->second.side == dir) owners_.erase(owner);
  } else if (owner == owners_.end() || owner->second.side == dir) {
    diagnose(Severity::Warning, "clipboard_request_not_owner", dir, carrier, ts_ns,
             side_name(dir) + " asked for clipboard data the " + side_name(schema::opposite(dir)) +
                 " does not offer (no grab from it)");
  }
}

void Conversation::clipboard_data(Direction dir, const Message& m, const DecodedMessage& d, uint64_t ts_ns) {
  ClipboardItem item;
  item.dir = dir;
  item.ts_ns = ts_ns;
  item.span = m.span;
  if (auto s = number(d, "agent.clipboard.selection")) item.selection = static_cast<uint32_t>(*s);
  item.type = static_cast<uint32_t>(number(d, "agent.clipboard.type").value_or(0));
  if (const auto* v = d.find("agent.clipboard.data")) item.data = std::span(m.body).subspan(v->offset, v->size);
  if (auto o = owners_.find(item.selection.value_or(0)); o != owners_.end() && o->second.side == dir)
    item.serial = o->second.serial;
  item.sha256 = util::sha256_hex(item.data);
  const auto& limit = max_clipboard_[idx(schema::opposite(dir))];
  if (limit && *limit >= 0 && item.data.size() > static_cast<uint64_t>(*limit)) {
    diagnose(Severity::Warning, "clipboard_over_max", dir, m.span.last_carrier, ts_ns,
             "clipboard data of " + std::to_string(item.data.size()) + " bytes exceeds the " +
                 std::to_string(*limit) + " bytes the " + side_name(schema::opposite(dir)) + " accepts");
  }
  if (item.type == VD_AGENT_CLIPBOARD_NONE) {
    diagnose(Severity::Info, "clipboard_empty_answer", dir, m.span.last_carrier, ts_ns,
             side_name(dir) + " answered a clipboard request with no data");
  }
  listener_.on_clipboard(item);
}

void Conversation::transfer_start(Direction dir, const Message& m, const DecodedMessage& d, uint64_t ts_ns) {
  const uint32_t id = static_cast<uint32_t>(number(d, "agent.file_xfer_start.id").value_or(0));
  auto t = std::make_unique<Transfer>();
  t->info.id = id;
  t->info.dir = dir;
  t->info.start_ns = t->info.last_data_ns = ts_ns;
  t->info.first_carrier = m.span.first_carrier;
  t->info.last_carrier = m.span.last_carrier;
  if (const auto* v = d.find("agent.file_xfer_start.keyfile")) {
    const std::string_view text(reinterpret_cast<const char*>(m.body.data()) + v->offset, v->size);
    if (auto info = parse_file_xfer_keyfile(text)) {
      t->info.name = info->name;
      t->info.declared_size = info->size;
    }
  }
  if (t->info.name.empty()) {
    diagnose(Severity::Warning, "file_xfer_bad_start", dir, m.span.last_carrier, ts_ns,
             "file transfer " + std::to_string(id) + " starts without a [vdagent-file-xfer] name");
  }
  if (transfers_.count(id)) {
    diagnose(Severity::Warning, "file_xfer_duplicate_id", dir, m.span.last_carrier, ts_ns,
             "file transfer " + std::to_string(id) + " started again before the first one ended");
    end_transfer(id, FileTransfer::Status::Incomplete, dir, "replaced by a new transfer with the same id", ts_ns);
  }
  transfers_[id] = std::move(t);
}

void Conversation::transfer_status(Direction dir, const Message& m, const DecodedMessage& d, uint64_t ts_ns) {
  const uint32_t id = static_cast<uint32_t>(number(d, "agent.file_xfer_status.id").value_or(0));
  const uint32_t result = static_cast<uint32_t>(number(d, "agent.file_xfer_status.result").value_or(~0u));
  auto it = transfers_.find(id);
  if (it == transfers_.end() && ended_.count(id)) return;  // the peer's echo of a final status (spice-gtk does this)
  if (it == transfers_.end()) {
    diagnose(Severity::Info, "file_xfer_unknown_id", dir, m.span.last_carrier, ts_ns,
             "status for file transfer " + std::to_string(id) + ", which this capture did not see start");
    return;
  }
  using S = FileTransfer::Status;
  std::string detail;
  S status = S::Error;
  switch (result) {
    case VD_AGENT_FILE_XFER_STATUS_CAN_SEND_DATA: it->second->accepted = true; return;
    case VD_AGENT_FILE_XFER_STATUS_SUCCESS: status = S::Success; break;
    case VD_AGENT_FILE_XFER_STATUS_CANCELLED: status = S::Cancelled; detail = "cancelled by the " + side_name(dir); break;
    case VD_AGENT_FILE_XFER_STATUS_NOT_ENOUGH_SPACE:
      status = S::NotEnoughSpace;
      detail = "not enough space in the guest";
      if (auto free = number(d, "agent.file_xfer_status.disk_free_space"))
        detail += " (" + std::to_string(*free) + " bytes free)";
      break;
    case VD_AGENT_FILE_XFER_STATUS_SESSION_LOCKED: status = S::SessionLocked; detail = "the guest session is locked"; break;
    case VD_AGENT_FILE_XFER_STATUS_VDAGENT_NOT_CONNECTED:
      status = S::AgentNotConnected;
      detail = "no session agent runs in the guest";
      break;
    case VD_AGENT_FILE_XFER_STATUS_DISABLED: status = S::Disabled; detail = "file transfer is disabled in the guest"; break;
    case VD_AGENT_FILE_XFER_STATUS_ERROR:
      detail = "the guest reported an error";
      if (auto code = number(d, "agent.file_xfer_status.error_code")) {
        const auto type = number(d, "agent.file_xfer_status.error_type").value_or(0);
        detail += type == VD_AGENT_FILE_XFER_STATUS_ERROR_GLIB_IO ? " (GIO error " : " (error ";
        detail += std::to_string(*code) + ")";
      }
      break;
    default: detail = "unknown status " + std::to_string(result); break;
  }
  end_transfer(id, status, dir, std::move(detail), ts_ns);
}

void Conversation::transfer_data(Direction dir, const Message& m, const DecodedMessage& d, uint64_t ts_ns) {
  const uint32_t id = static_cast<uint32_t>(number(d, "agent.file_xfer_data.id").value_or(0));
  auto it = transfers_.find(id);
  const auto* v = d.find("agent.file_xfer_data.data");
  if (it == transfers_.end() && (!v || v->size == 0) && ended_.count(id)) {
    // spice-gtk sends an empty data message even after an empty file has succeeded.
    diagnose(Severity::Info, "file_xfer_trailing_data", dir, m.span.last_carrier, ts_ns,
             "empty file data for transfer " + std::to_string(id) + " after it ended (harmless)");
    return;
  }
  if (it == transfers_.end()) {
    // Once per transfer: a transfer that started before the capture sends many.
    if (unknown_data_.insert(id).second) {
      diagnose(Severity::Warning, "file_xfer_data_unknown_id", dir, m.span.last_carrier, ts_ns,
               "file data for transfer " + std::to_string(id) +
                   ", which is not open (it ended, or started before the capture); its data is not followed");
    }
    return;
  }
  Transfer& t = *it->second;
  const std::span<const uint8_t> data = v ? std::span(m.body).subspan(v->offset, v->size) : std::span<const uint8_t>{};
  t.sha.update(data);
  t.info.bytes_seen += data.size();
  t.info.last_data_ns = ts_ns;
  t.info.last_carrier = m.span.last_carrier;
  t.stall_reported = false;
  if (t.info.declared_size && t.info.bytes_seen > *t.info.declared_size &&
      t.info.bytes_seen - data.size() <= *t.info.declared_size) {
    diagnose(Severity::Warning, "file_xfer_oversized", dir, m.span.last_carrier, ts_ns,
             "file transfer " + std::to_string(id) + " sent more than the " + std::to_string(*t.info.declared_size) +
                 " bytes it declared");
  }
  listener_.on_file_data(t.info, data);
}

void Conversation::end_transfer(uint32_t id, FileTransfer::Status status, Direction from, std::string error,
                                uint64_t ts_ns) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers_.erase(it);
  ended_.insert(id);
  t->info.status = status;
  t->info.status_from = from;
  t->info.end_ns = ts_ns;
  t->info.sha256 = t->sha.hex();
  using S = FileTransfer::Status;
  const std::string what = "file transfer " + std::to_string(id) + " (" + t->info.name + ")";
  const uint64_t declared = t->info.declared_size.value_or(0);
  if (status == S::Success && t->info.declared_size && t->info.bytes_seen < declared) {
    error = "ended with " + std::to_string(t->info.bytes_seen) + " of " + std::to_string(declared) + " bytes";
    diagnose(Severity::Warning, "file_xfer_short", from, t->info.last_carrier, ts_ns, what + " " + error);
  } else if (status == S::Cancelled) {
    diagnose(Severity::Info, "file_xfer_cancelled", from, t->info.last_carrier, ts_ns,
             what + " " + error + " after " + std::to_string(t->info.bytes_seen) + " bytes");
  } else if (status == S::Incomplete) {
    diagnose(Severity::Warning, "file_xfer_unfinished", from, t->info.last_carrier, ts_ns,
             what + " " + error + " after " + std::to_string(t->info.bytes_seen) + " of " +
                 (t->info.declared_size ? std::to_string(declared) : std::string("?")) + " bytes");
  } else if (status != S::Success) {
    diagnose(Severity::Warning, "file_xfer_failed", from, t->info.last_carrier, ts_ns, what + ": " + error);
  }
  if (t->info.bytes_lost && error.empty()) error = "bytes were lost in the capture: the content is incomplete";
  t->info.error = std::move(error);
  listener_.on_transfer_end(t->info);
}

void Conversation::check_stalls(uint64_t ts_ns, uint64_t carrier) {
  for (auto& [id, t] : transfers_) {
    if (t->stall_reported || ts_ns < t->info.last_data_ns + options_.stall_ns) continue;
    t->stall_reported = true;
    diagnose(Severity::Warning, "file_xfer_stalled", t->info.dir, carrier, ts_ns,
             "file transfer " + std::to_string(id) + " (" + t->info.name + ") has sent nothing for " +
                 ms(ts_ns - t->info.last_data_ns) + " after " + std::to_string(t->info.bytes_seen) + " bytes");
  }
}

void Conversation::finish(uint64_t ts_ns) {
  ts_ns = std::max(ts_ns, last_ts_);
  for (int d = 0; d < 2; ++d) {
    Side& s = *sides_[d];
    out_.clear();
    s.stream.finish(0, out_);
    for (const auto& p : out_.problems)
      diagnose(Severity::Warning, std::string(problem_code_name(p.code)), Direction(d), p.carrier, ts_ns, p.text);
    if (s.exhausted_since) s.longest_wait_ns = std::max(s.longest_wait_ns, ts_ns - s.exhausted_since);
    if (s.exhaustions > 0) {
      const bool starved = s.longest_wait_ns >= 1'000'000'000;
      diagnose(starved ? Severity::Warning : Severity::Info, starved ? "agent_token_starvation" : "agent_tokens_exhausted",
               Direction(d), 0, ts_ns,
               side_name(Direction(d)) + " ran out of agent tokens " + std::to_string(s.exhaustions) +
                   " times (longest wait for more: " + ms(s.longest_wait_ns) + ")");
    }
  }
  std::vector<uint32_t> open;
  for (const auto& [id, t] : transfers_) open.push_back(id);
  for (uint32_t id : open)
    end_transfer(id, FileTransfer::Status::Incomplete, transfers_[id]->info.dir, "has no final status", ts_ns);
}

}  // namespace sc::agent
