#include "qxl-sim/agent.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <glib.h>

#include "dissect/agent/keyfile.hpp"
#include "qxl-sim/imagery.hpp"
#include "util/png.hpp"
#include "util/sha256.hpp"

namespace sc::qxl {
namespace {

// The capabilities our guest claims (bit numbers from vd_agent.h).
constexpr uint32_t kOurCaps[] = {
    VD_AGENT_CAP_MOUSE_STATE,          VD_AGENT_CAP_MONITORS_CONFIG,
    VD_AGENT_CAP_REPLY,                VD_AGENT_CAP_CLIPBOARD_BY_DEMAND,
    VD_AGENT_CAP_CLIPBOARD_SELECTION,  VD_AGENT_CAP_SPARSE_MONITORS_CONFIG,
    VD_AGENT_CAP_GUEST_LINEEND_LF,     VD_AGENT_CAP_MAX_CLIPBOARD,
    VD_AGENT_CAP_FILE_XFER_DETAILED_ERRORS, VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL,
};

const char* clipboard_type_name(uint32_t t) {
  switch (t) {
    case VD_AGENT_CLIPBOARD_UTF8_TEXT: return "text";
    case VD_AGENT_CLIPBOARD_IMAGE_PNG: return "png";
    case VD_AGENT_CLIPBOARD_IMAGE_BMP: return "bmp";
    case VD_AGENT_CLIPBOARD_IMAGE_TIFF: return "tiff";
    case VD_AGENT_CLIPBOARD_IMAGE_JPG: return "jpg";
    case VD_AGENT_CLIPBOARD_FILE_LIST: return "file-list";
    default: return "none";
  }
}

template <class T>
void put(std::vector<uint8_t>& v, const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  v.insert(v.end(), p, p + sizeof value);
}

uint32_t read_u32(const std::vector<uint8_t>& d, size_t at) {
  uint32_t v = 0;
  if (at + 4 <= d.size()) std::memcpy(&v, d.data() + at, 4);
  return v;
}


}  // namespace

struct GuestAgent::Transfer {
  std::string name;
  std::filesystem::path path;
  uint64_t size = 0;
  uint64_t received = 0;
  std::ofstream file;
  util::Sha256 sha;
};

GuestAgent::GuestAgent(Options options, EventSink events, Output output)
    : options_(std::move(options)), events_(std::move(events)), output_(std::move(output)) {}

GuestAgent::~GuestAgent() {
  for (auto& [id, t] : transfers_) {
    t->file.close();
    std::error_code ec;
    std::filesystem::remove(t->path, ec);  // a transfer cut short leaves nothing behind
  }
}

void GuestAgent::start() { announce(true); }

void GuestAgent::send(uint32_t type, std::span<const uint8_t> data) {
  ++counters_.messages_out;
  output_(agent::frame_message(type, data));
}

void GuestAgent::announce(bool request) {
  uint32_t bits = 0;
  for (uint32_t c : kOurCaps) bits |= 1u << c;
  std::vector<uint8_t> d;
  put(d, uint32_t(request ? 1 : 0));
  put(d, bits);
  send(VD_AGENT_ANNOUNCE_CAPABILITIES, d);
  if (options_.max_clipboard >= 0) {
    std::vector<uint8_t> m;
    put(m, int32_t(options_.max_clipboard));
    send(VD_AGENT_MAX_CLIPBOARD, m);
  }
}

bool GuestAgent::has_client_cap(uint32_t cap) const {
  const size_t word = cap / 32;
  return word < client_caps_.size() && (client_caps_[word] >> (cap % 32)) & 1;
}

size_t GuestAgent::selection_header() const {
  return has_client_cap(VD_AGENT_CAP_CLIPBOARD_SELECTION) ? 4 : 0;
}

void GuestAgent::on_bytes(std::span<const uint8_t> bytes) {
  agent::ChunkStream::Output out;
  chunks_.feed(bytes, out);
  for (const auto& p : out.problems) emit(events_, "agent.protocol_error", {{"error", p.text}});
  for (const auto& [port, m] : out.messages) {
    ++counters_.messages_in;
    handle(m);
  }
}

void GuestAgent::handle(const AgentMessage& m) {
  using Handler = void (GuestAgent::*)(const AgentMessage&);
  struct Route {
    uint32_t type;
    Handler handler;
  };
  static constexpr Route kRoutes[] = {
      {VD_AGENT_ANNOUNCE_CAPABILITIES, &GuestAgent::on_announce},
      {VD_AGENT_MONITORS_CONFIG, &GuestAgent::on_monitors},
      {VD_AGENT_MOUSE_STATE, &GuestAgent::on_mouse_state},
      {VD_AGENT_CLIPBOARD_GRAB, &GuestAgent::on_clipboard_grab},
      {VD_AGENT_CLIPBOARD_REQUEST, &GuestAgent::on_clipboard_request},
      {VD_AGENT_CLIPBOARD, &GuestAgent::on_clipboard_data},
      {VD_AGENT_CLIPBOARD_RELEASE, &GuestAgent::on_clipboard_release},
      {VD_AGENT_FILE_XFER_START, &GuestAgent::on_file_start},
      {VD_AGENT_FILE_XFER_STATUS, &GuestAgent::on_file_status},
      {VD_AGENT_FILE_XFER_DATA, &GuestAgent::on_file_data},
  };
  for (const Route& r : kRoutes)
    if (r.type == m.header.type) return (this->*r.handler)(m);
  if (m.header.type == VD_AGENT_CLIENT_DISCONNECTED) {
    emit(events_, "agent.client_disconnected");
    client_caps_.clear();
    return;
  }
  emit(events_, "agent.message", {{"type", m.header.type}, {"size", m.body.size()}});
}

void GuestAgent::on_announce(const AgentMessage& m) {
  const uint32_t request = read_u32(m.body, 0);
  client_caps_.clear();
  for (size_t at = 4; at + 4 <= m.body.size(); at += 4) client_caps_.push_back(read_u32(m.body, at));
  emit(events_, "agent.client_caps",
       {{"request", request != 0}, {"caps0", client_caps_.empty() ? 0 : client_caps_[0]}});
  if (request) announce(false);
}

void GuestAgent::on_monitors(const AgentMessage& m) {
  if (m.body.size() < sizeof(VDAgentMonitorsConfig)) return;
  VDAgentMonitorsConfig hdr;
  std::memcpy(&hdr, m.body.data(), sizeof hdr);
  const size_t n = std::min<size_t>(hdr.num_of_monitors,
                                    (m.body.size() - sizeof hdr) / sizeof(VDAgentMonConfig));
  Json heads = Json::array();
  int32_t right = 0, bottom = 0;
  for (size_t i = 0; i < n; ++i) {
    VDAgentMonConfig mon;
    std::memcpy(&mon, m.body.data() + sizeof hdr + i * sizeof mon, sizeof mon);
    if (mon.width == 0 || mon.height == 0) continue;  // sparse: disabled head
    heads.push_back({{"width", uint32_t(mon.width)}, {"height", uint32_t(mon.height)}, {"x", int32_t(mon.x)}, {"y", int32_t(mon.y)}});
    const bool use_pos = hdr.flags & VD_AGENT_CONFIG_MONITORS_FLAG_USE_POS;
    right = std::max(right, (use_pos ? mon.x : 0) + int32_t(mon.width));
    bottom = std::max(bottom, (use_pos ? mon.y : 0) + int32_t(mon.height));
  }
  emit(events_, "agent.monitors_config", {{"heads", heads}, {"entries", n}});
  // Acknowledge like vdagent does, then apply the layout as one primary surface.
  std::vector<uint8_t> reply;
  put(reply, VDAgentReply{VD_AGENT_MONITORS_CONFIG, VD_AGENT_SUCCESS});
  send(VD_AGENT_REPLY, reply);
  if (right > 0 && bottom > 0 && on_resize) on_resize(Size{uint32_t(right), uint32_t(bottom)});
}

void GuestAgent::on_mouse_state(const AgentMessage& m) {
  if (m.body.size() < sizeof(VDAgentMouseState)) return;
  VDAgentMouseState s;
  std::memcpy(&s, m.body.data(), sizeof s);
  emit(events_, "agent.mouse", {{"x", uint32_t(s.x)}, {"y", uint32_t(s.y)}, {"buttons", uint32_t(s.buttons)}, {"display", unsigned(s.display_id)}});
  if (on_mouse) on_mouse(int32_t(s.x), int32_t(s.y), s.buttons);
}

void GuestAgent::grab_clipboard() {
  std::vector<uint8_t> d;
  if (selection_header()) put(d, uint32_t(VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD));
  // Serials start at 0 and count our grabs: the client drops a grab whose
  // serial is not the one it expects next.
  if (has_client_cap(VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL)) put(d, grab_serial_++);
  put(d, uint32_t(VD_AGENT_CLIPBOARD_UTF8_TEXT));
  put(d, uint32_t(VD_AGENT_CLIPBOARD_IMAGE_PNG));
  send(VD_AGENT_CLIPBOARD_GRAB, d);
  emit(events_, "agent.clipboard_grab", {{"from", "guest"}, {"types", {"text", "png"}}});
}

void GuestAgent::on_clipboard_grab(const AgentMessage& m) {
  size_t at = selection_header();
  const uint32_t selection = at ? m.body.empty() ? 0 : m.body[0] : 0;
  uint32_t serial = 0;
  if (has_client_cap(VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL)) serial = read_u32(m.body, at), at += 4;
  Json types = Json::array();
  std::vector<uint32_t> raw;
  for (; at + 4 <= m.body.size(); at += 4) {
    raw.push_back(read_u32(m.body, at));
    types.push_back(clipboard_type_name(raw.back()));
  }
  emit(events_, "agent.clipboard_grab",
       {{"from", "client"}, {"selection", selection}, {"serial", serial}, {"types", types}});
  if (raw.empty()) return;
  // Paste right away: ask for text if offered, else the first type.
  const uint32_t want = std::find(raw.begin(), raw.end(), uint32_t(VD_AGENT_CLIPBOARD_UTF8_TEXT)) != raw.end()
                            ? uint32_t(VD_AGENT_CLIPBOARD_UTF8_TEXT)
                            : raw.front();
  std::vector<uint8_t> d;
  if (selection_header()) put(d, selection);
  put(d, want);
  send(VD_AGENT_CLIPBOARD_REQUEST, d);
}

void GuestAgent::on_clipboard_request(const AgentMessage& m) {
  const size_t at = selection_header();
  const uint32_t selection = at && !m.body.empty() ? m.body[0] : 0;
  const uint32_t type = read_u32(m.body, at);
  std::vector<uint8_t> payload;
  if (type == VD_AGENT_CLIPBOARD_UTF8_TEXT) {
    payload.assign(options_.clipboard_text.begin(), options_.clipboard_text.end());
  } else if (type == VD_AGENT_CLIPBOARD_IMAGE_PNG) {
    auto img = natural_image(64, 48, 0xc11b, 1);
    payload = util::encode_png(img->width, img->height, img->pixels);
  }
  std::vector<uint8_t> d;
  if (at) put(d, selection);
  put(d, payload.empty() ? uint32_t(VD_AGENT_CLIPBOARD_NONE) : type);
  d.insert(d.end(), payload.begin(), payload.end());
  send(VD_AGENT_CLIPBOARD, d);
  ++counters_.clipboard_out;
  emit(events_, "agent.clipboard_sent",
       {{"type", clipboard_type_name(type)}, {"size", payload.size()}, {"sha256", util::sha256_hex(payload)}});
}

void GuestAgent::on_clipboard_data(const AgentMessage& m) {
  const size_t at = selection_header() + 4;
  if (m.body.size() < at) return;
  const uint32_t type = read_u32(m.body, at - 4);
  std::span<const uint8_t> payload(m.body.data() + at, m.body.size() - at);
  ++counters_.clipboard_in;
  Json j = {{"type", clipboard_type_name(type)}, {"size", payload.size()}, {"sha256", util::sha256_hex(payload)}};
  if (type == VD_AGENT_CLIPBOARD_UTF8_TEXT && payload.size() <= 4096)
    j["text"] = std::string(payload.begin(), payload.end());
  emit(events_, "agent.clipboard_received", j);
}

void GuestAgent::on_clipboard_release(const AgentMessage&) {
  emit(events_, "agent.clipboard_release", {{"from", "client"}});
}

void GuestAgent::file_status(uint32_t id, uint32_t result, std::span<const uint8_t> detail) {
  std::vector<uint8_t> d;
  put(d, id);
  put(d, result);
  if (has_client_cap(VD_AGENT_CAP_FILE_XFER_DETAILED_ERRORS)) d.insert(d.end(), detail.begin(), detail.end());
  send(VD_AGENT_FILE_XFER_STATUS, d);
}

void GuestAgent::on_file_start(const AgentMessage& m) {
  const uint32_t id = read_u32(m.body, 0);
  const std::string keyfile(m.body.begin() + std::min<size_t>(4, m.body.size()), m.body.end());
  std::string name;
  uint64_t size = 0;
  if (auto info = agent::parse_file_xfer_keyfile(keyfile)) {
    name = info->name;
    size = info->size.value_or(0);
  }
  emit(events_, "agent.file_start", {{"id", id}, {"name", name}, {"size", size}});
  if (name.empty()) return file_status(id, VD_AGENT_FILE_XFER_STATUS_ERROR);

  if (options_.fail == "not-enough-space") {
    std::vector<uint8_t> detail;
    put(detail, VDAgentFileXferStatusNotEnoughSpace{size / 2});
    emit(events_, "agent.file_refused", {{"id", id}, {"reason", "not-enough-space"}});
    return file_status(id, VD_AGENT_FILE_XFER_STATUS_NOT_ENOUGH_SPACE, detail);
  }
  if (options_.fail == "disabled") {
    emit(events_, "agent.file_refused", {{"id", id}, {"reason", "disabled"}});
    return file_status(id, VD_AGENT_FILE_XFER_STATUS_DISABLED);
  }
  if (options_.fail == "error") {
    std::vector<uint8_t> detail;
    put(detail, VDAgentFileXferStatusError{VD_AGENT_FILE_XFER_STATUS_ERROR_GLIB_IO, 14 /* G_IO_ERROR_PERMISSION_DENIED */});
    emit(events_, "agent.file_refused", {{"id", id}, {"reason", "error"}});
    return file_status(id, VD_AGENT_FILE_XFER_STATUS_ERROR, detail);
  }

  auto t = std::make_unique<Transfer>();
  t->name = agent::safe_file_name(name);
  t->size = size;
  const std::filesystem::path dir(options_.files_dir.empty() ? "." : options_.files_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  t->path = dir / t->name;
  for (int n = 1; std::filesystem::exists(t->path); ++n)
    t->path = dir / (std::filesystem::path(t->name).stem().string() + " (" + std::to_string(n) + ")" +
                     std::filesystem::path(t->name).extension().string());
  t->file.open(t->path, std::ios::binary);
  if (!t->file) {
    emit(events_, "agent.file_refused", {{"id", id}, {"reason", "cannot create " + t->path.string()}});
    return file_status(id, VD_AGENT_FILE_XFER_STATUS_ERROR);
  }
  transfers_[id] = std::move(t);
  file_status(id, VD_AGENT_FILE_XFER_STATUS_CAN_SEND_DATA);
  if (size == 0) finish_transfer(id, true);
}

void GuestAgent::on_file_data(const AgentMessage& m) {
  const size_t hdr = sizeof(VDAgentFileXferDataMessage);
  if (m.body.size() < hdr) return;
  VDAgentFileXferDataMessage d;
  std::memcpy(&d, m.body.data(), hdr);
  const uint32_t id = d.id;
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;  // cancelled or unknown: drop
  Transfer& t = *it->second;
  const size_t n = std::min<size_t>(d.size, m.body.size() - hdr);
  t.file.write(reinterpret_cast<const char*>(m.body.data() + hdr), std::streamsize(n));
  t.sha.update(std::span(m.body).subspan(hdr, n));
  t.received += n;
  counters_.file_bytes += n;
  if (options_.fail == "cancel") {
    emit(events_, "agent.file_cancelled", {{"id", id}, {"by", "guest"}, {"received", t.received}});
    file_status(id, VD_AGENT_FILE_XFER_STATUS_CANCELLED);
    return finish_transfer(id, false);
  }
  if (!t.file) {
    file_status(id, VD_AGENT_FILE_XFER_STATUS_ERROR);
    return finish_transfer(id, false);
  }
  if (t.received >= t.size) finish_transfer(id, true);
}

void GuestAgent::on_file_status(const AgentMessage& m) {
  const uint32_t id = read_u32(m.body, 0), result = read_u32(m.body, 4);
  emit(events_, "agent.file_status_from_client", {{"id", id}, {"result", result}});
  if (result == VD_AGENT_FILE_XFER_STATUS_CANCELLED || result == VD_AGENT_FILE_XFER_STATUS_ERROR)
    finish_transfer(id, false);
}

void GuestAgent::finish_transfer(uint32_t id, bool keep) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers_.erase(it);
  t->file.close();
  if (!keep) {
    std::error_code ec;
    std::filesystem::remove(t->path, ec);
    emit(events_, "agent.file_aborted", {{"id", id}, {"name", t->name}, {"received", t->received}});
    return;
  }
  ++counters_.files_done;
  file_status(id, VD_AGENT_FILE_XFER_STATUS_SUCCESS);
  emit(events_, "agent.file_saved",
       {{"id", id}, {"path", t->path.string()}, {"size", t->received}, {"sha256", t->sha.hex()}});
}

}  // namespace sc::qxl
