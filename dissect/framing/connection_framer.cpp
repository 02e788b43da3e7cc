#include "dissect/framing/connection_framer.hpp"

#include <spice/protocol.h>

#include <algorithm>
#include <cstring>

#include "dissect/decode/decoder.hpp"

namespace sc::framing {

using decode::Severity;
using schema::LinkStep;

std::string_view header_kind_name(HeaderKind k) {
  switch (k) {
    case HeaderKind::Full: return "full";
    case HeaderKind::Mini: return "mini";
    case HeaderKind::Unknown: break;
  }
  return "unknown";
}

namespace {

uint32_t le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint64_t le64(const uint8_t* p) { return le32(p) | static_cast<uint64_t>(le32(p + 4)) << 32; }

enum class Step : uint8_t {
  // client
  CLink, CWaitReply, CAuthMech, CTicket, CSaslStart, CSaslWait, CSaslStep, CWaitResult,
  // server
  SLink, SWaitAuth, SSaslMechList, SSaslStartReply, SSaslStepReply, SResult,
  // both
  Sniff, Data, Raw,
};

bool is_waiting(Step s) {
  return s == Step::CWaitReply || s == Step::CSaslWait || s == Step::CWaitResult || s == Step::SWaitAuth;
}

struct Side {
  Direction dir;
  std::vector<uint8_t> buf;
  size_t head = 0;
  uint64_t offset = 0;  // stream offset of buf[head]
  uint64_t ts = 0;
  Step step;
  bool resync = false;
  uint64_t skipped = 0;  // bytes skipped in the current resync episode
  std::optional<uint64_t> last_serial;

  std::span<const uint8_t> avail() const { return {buf.data() + head, buf.size() - head}; }
  void consume(size_t n) {
    head += n;
    offset += n;
    if (head == buf.size()) {
      buf.clear();
      head = 0;
    } else if (head > (1u << 20) && head > buf.size() / 2) {
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(head));
      head = 0;
    }
  }
};

enum class Plausible { No, Yes, NeedMore };

}  // namespace

struct ConnectionFramer::Impl {
  Impl(FrameSink& s, bool midstream, FramerOptions o)
      : sink(s), opt(o), reg(schema::Registry::spice()),
        sides{Side{Direction::C2S, {}, 0, 0, 0, midstream ? Step::Sniff : Step::CLink},
              Side{Direction::S2C, {}, 0, 0, 0, midstream ? Step::Sniff : Step::SLink}} {
    state.midstream = midstream;
  }

  FrameSink& sink;
  FramerOptions opt;
  const schema::Registry& reg;
  ChannelState state;
  std::array<Side, 2> sides;
  bool finishing = false;
  bool sasl_complete = false;
  int sasl_sent = 0;     // client SASL messages framed
  int sasl_replied = 0;  // server SASL replies framed
  decode::DecodedMessage scratch;

  Side& side(Direction d) { return sides[static_cast<size_t>(d)]; }

  void problem(Side& s, Severity sev, std::string code, std::string text, uint64_t at) {
    sink.on_problem(Problem{sev, std::move(code), s.dir, at, s.ts, std::move(text)}, state);
  }

  void emit(Side& s, size_t wire_len, size_t header_len, const schema::MessageDef* def, uint16_t type,
            std::optional<uint64_t> serial = {}, uint32_t sub_list = 0) {
    Frame f;
    f.dir = s.dir;
    f.ts_ns = s.ts;
    f.stream_offset = s.offset;
    f.wire = s.avail().first(wire_len);
    f.body = f.wire.subspan(header_len);
    f.def = def;
    f.type = type;
    f.serial = serial;
    f.sub_list = sub_list;
    f.undecodable = def == nullptr && type == 0;
    sink.on_frame(f, state);
    s.consume(wire_len);
  }

  void emit_undecodable(Side& s, size_t len) {
    if (len > 0) emit(s, len, 0, nullptr, 0);
  }

  void go_raw(Side& s, std::string why) {
    problem(s, Severity::Error, "undecodable_stream", why, s.offset);
    s.step = Step::Raw;
  }

  // Decodes a link step's bytes (always small) so that its values can be read.
  const decode::DecodedMessage& decode_link(const schema::MessageDef* def, std::span<const uint8_t> bytes) {
    decode::decode_message(*def, bytes, {}, scratch);
    return scratch;
  }
  uint64_t value(const decode::DecodedMessage& m, std::string_view path, uint64_t fallback = 0) {
    const auto* v = m.find(path);
    return v ? v->number : fallback;
  }
  decode::CapSet caps_at(const decode::DecodedMessage& m, std::string_view array_path) {
    decode::CapSet caps;
    for (size_t i = 0; i < m.values.size(); ++i) {
      if (reg.node(m.values[i].node).path != array_path) continue;
      for (uint32_t j = static_cast<uint32_t>(i) + 1; j < m.values[i].end; ++j) {
        caps.words.push_back(static_cast<uint32_t>(m.values[j].number));
      }
      break;
    }
    return caps;
  }

  // ---- link stage ----------------------------------------------------------------

  // A SpiceLinkHeader and what it announces; 0 = incomplete, SIZE_MAX = not SPICE.
  size_t link_message_size(Side& s) {
    auto a = s.avail();
    if (a.size() < kLinkHeaderSize) return 0;
    if (le32(a.data()) != SPICE_MAGIC) return SIZE_MAX;
    const uint32_t size = le32(a.data() + 12);
    if (size > opt.max_link_size) return SIZE_MAX;
    return a.size() >= kLinkHeaderSize + size ? kLinkHeaderSize + size : 0;
  }

  // Fixed-size link steps.
  bool fixed_step(Side& s, LinkStep step, size_t len, Step next) {
    if (s.avail().size() < len) return false;
    const auto* def = reg.link(step);
    emit(s, len, 0, def, 0);
    s.step = next;
    return true;
  }

  // Length-prefixed SASL blobs: u32 len + len bytes, optionally twice, optionally + u8.
  size_t sasl_size(Side& s, int blobs, bool trailing_flag) {
    auto a = s.avail();
    size_t at = 0;
    for (int i = 0; i < blobs; ++i) {
      if (a.size() < at + 4) return 0;
      const uint32_t len = le32(a.data() + at);
      if (len > opt.max_link_size) return SIZE_MAX;
      at += 4 + len;
    }
    at += trailing_flag ? 1 : 0;
    return a.size() >= at ? at : 0;
  }

  bool sasl_step(Side& s, LinkStep step, int blobs, bool flag) {
    const size_t n = sasl_size(s, blobs, flag);
    if (n == 0) return false;
    if (n == SIZE_MAX) {
      go_raw(s, "SASL message with an implausible length");
      return true;
    }
    const auto* def = reg.link(step);
    const bool complete = flag && s.avail()[n - 1] != 0;
    emit(s, n, 0, def, 0);
    (s.dir == Direction::C2S ? sasl_sent : sasl_replied) += step == LinkStep::SaslMechList ? 0 : 1;
    if (s.dir == Direction::S2C && flag) {
      sasl_complete = complete;
      s.step = complete ? Step::SResult : Step::SSaslStepReply;
    }
    return true;
  }

  bool client_link(Side& s) {
    const size_t n = link_message_size(s);
    if (n == 0) return false;
    if (n == SIZE_MAX) {
      go_raw(s, "the client stream does not start with a SPICE link message (magic REDQ)");
      return true;
    }
    const auto* def = reg.link(LinkStep::Mess);
    const auto& m = decode_link(def, s.avail().first(n));
    state.connection_id = static_cast<uint32_t>(value(m, "link.mess.mess.connection_id"));
    state.channel_type = static_cast<uint8_t>(value(m, "link.mess.mess.channel_type"));
    state.channel_id = static_cast<uint8_t>(value(m, "link.mess.mess.channel_id"));
    state.client_common = caps_at(m, "link.mess.mess.caps.common_caps");
    state.client_channel = caps_at(m, "link.mess.mess.caps.channel_caps");
    emit(s, n, 0, def, 0);
    s.step = Step::CWaitReply;
    return true;
  }

  bool server_link(Side& s) {
    const size_t n = link_message_size(s);
    if (n == 0) return false;
    if (n == SIZE_MAX) {
      go_raw(s, "the server stream does not start with a SPICE link reply (magic REDQ)");
      return true;
    }
    const auto* def = reg.link(LinkStep::Reply);
    const auto& m = decode_link(def, s.avail().first(n));
    const auto err = static_cast<uint32_t>(value(m, "link.reply.reply.error", SPICE_LINK_ERR_ERROR));
    state.server_common = caps_at(m, "link.reply.reply.caps.common_caps");
    state.server_channel = caps_at(m, "link.reply.reply.caps.channel_caps");
    state.negotiated.common = decode::CapSet::intersect(state.client_common, state.server_common);
    state.negotiated.channel = decode::CapSet::intersect(state.client_channel, state.server_channel);
    state.header = state.negotiated.common.has(SPICE_COMMON_CAP_MINI_HEADER) ? HeaderKind::Mini : HeaderKind::Full;
    emit(s, n, 0, def, 0);
    if (err != SPICE_LINK_ERR_OK) {
      state.link_error = err;
      s.step = Step::Raw;
      sink.on_channel_known(state);
    } else {
      s.step = Step::SWaitAuth;
    }
    return true;
  }

  bool link_result(Side& s) {
    if (s.avail().size() < 4) return false;
    const uint32_t err = le32(s.avail().data());
    emit(s, 4, 0, reg.link(LinkStep::Result), 0);
    state.link_error = err;
    state.linked = err == SPICE_LINK_ERR_OK;
    s.step = state.linked ? Step::Data : Step::Raw;
    sink.on_channel_known(state);
    return true;
  }

  // ---- data stage ------------------------------------------------------------------

  size_t header_size() const { return state.header == HeaderKind::Mini ? kMiniHeaderSize : kFullHeaderSize; }

  struct Header {
    uint16_t type;
    uint32_t size;
    uint64_t serial;
    uint32_t sub_list;
  };
  Header parse_header(const uint8_t* p) const {
    if (state.header == HeaderKind::Mini) return {le16(p), le32(p + 2), 0, 0};
    return {le16(p + 8), le32(p + 10), le64(p), le32(p + 14)};
  }

  bool header_sane(const Side& s, const Header& h) const {
    if (h.size > opt.max_message_size) return false;
    const auto* def = reg.find(state.channel_type, s.dir, h.type);
    if (!def) return false;
    const auto& root = reg.node(def->root);
    if (h.size < root.min_wire_size || (root.fixed_size && h.size != root.min_wire_size)) return false;
    if (state.header == HeaderKind::Full) {
      if (s.last_serial && (h.serial <= *s.last_serial || h.serial > *s.last_serial + (1u << 20))) return false;
      if (!s.last_serial && (h.serial == 0 || h.serial > (1ull << 40))) return false;
      if (h.sub_list != 0 && h.sub_list >= h.size) return false;
    }
    return true;
  }

  // Is there a believable header at `at`? Confirmed by the header after it when
  // the bytes are there; at the end of the capture a lone header is accepted.
  Plausible plausible_at(const Side& s, std::span<const uint8_t> a, size_t at) const {
    const size_t hs = header_size();
    if (a.size() < at + hs) return finishing ? Plausible::No : Plausible::NeedMore;
    const Header h = parse_header(a.data() + at);
    if (!header_sane(s, h)) return Plausible::No;
    const size_t next = at + hs + h.size;
    if (a.size() < next + hs) {
      if (a.size() == next || finishing) return a.size() >= next ? Plausible::Yes : Plausible::No;
      return Plausible::NeedMore;
    }
    Side probe = {s.dir, {}, 0, 0, 0, Step::Data};
    probe.last_serial = state.header == HeaderKind::Full ? std::optional<uint64_t>(h.serial) : std::nullopt;
    return header_sane(probe, parse_header(a.data() + next)) ? Plausible::Yes : Plausible::No;
  }

  // Consecutive sane headers from `at` whose messages are complete in `a`.
  size_t complete_chain(const Side& s, std::span<const uint8_t> a, size_t at, size_t enough) const {
    const size_t hs = header_size();
    Side probe = {s.dir, {}, 0, 0, 0, Step::Data};
    size_t n = 0;
    while (n < enough && at + hs <= a.size()) {
      const Header h = parse_header(a.data() + at);
      if (!header_sane(n == 0 ? s : probe, h) || at + hs + h.size > a.size()) break;
      if (state.header == HeaderKind::Full) probe.last_serial = h.serial;
      at += hs + h.size;
      ++n;
    }
    return n;
  }

  // Whether a run of kConfirmingChain complete messages starts somewhere after `at`:
  // then a candidate at `at` whose message is not complete yet is not worth waiting
  // for (its size may never arrive), and the scan goes on.
  // The look-ahead is bounded so that waiting on a real large message, which
  // rescans at every new segment, stays linear in what arrives.
  static constexpr size_t kConfirmingChain = 4;
  static constexpr size_t kConfirmLookahead = 64u << 10;
  bool confirmed_after(const Side& s, std::span<const uint8_t> a, size_t at) const {
    const size_t end = std::min(a.size(), at + kConfirmLookahead);
    for (size_t b = at + 1; b + header_size() <= end; ++b) {
      if (complete_chain(s, a, b, kConfirmingChain) >= kConfirmingChain) return true;
    }
    return false;
  }

  bool resynchronise(Side& s) {
    auto a = s.avail();
    size_t at = 0;
    bool later_chain_checked = false, later_chain = false;
    for (; at < a.size(); ++at) {
      const Plausible p = plausible_at(s, a, at);
      if (p == Plausible::Yes) break;
      if (p == Plausible::NeedMore && a.size() >= at + header_size()) {
        // A header whose message is not complete yet: wait for it only when nothing
        // later is convincing on its own.
        if (!later_chain_checked) {
          later_chain_checked = true;
          later_chain = confirmed_after(s, a, at);
        }
        if (later_chain) continue;
      }
      if (p == Plausible::NeedMore) {
        // Keep the undecided tail; what precedes it can go now.
        if (at > 0) {
          s.skipped += at;
          emit_undecodable(s, at);
          return true;
        }
        return false;
      }
    }
    const bool found = at < a.size();
    if (at > 0) {
      s.skipped += at;
      emit_undecodable(s, at);
    }
    if (!found) return at > 0;
    problem(s, Severity::Info, "resync",
            "framing resynchronised on a " + std::string(header_kind_name(state.header)) + " header after skipping " +
                std::to_string(s.skipped) + " bytes",
            s.offset);
    s.resync = false;
    s.skipped = 0;
    s.last_serial.reset();
    return true;
  }

  bool data_frame(Side& s) {
    if (s.resync) return resynchronise(s);
    const size_t hs = header_size();
    auto a = s.avail();
    if (a.size() < hs) return false;
    const Header h = parse_header(a.data());
    if (h.size > opt.max_message_size) {
      problem(s, Severity::Error, "bad_header",
              "message header announces " + std::to_string(h.size) + " bytes (type " + std::to_string(h.type) +
                  "); resynchronising",
              s.offset);
      s.resync = true;
      return true;
    }
    if (a.size() < hs + h.size) return false;
    const auto* def = reg.find(state.channel_type, s.dir, h.type);
    std::optional<uint64_t> serial;
    if (state.header == HeaderKind::Full) {
      serial = h.serial;
      s.last_serial = h.serial;
    }
    emit(s, hs + h.size, hs, def, h.type, serial, h.sub_list);
    return true;
  }

  // ---- mid-session inference ----------------------------------------------------------

  // Length of the longest run of consecutive plausible headers starting near the
  // front of `a`, for the current hypothesis.
  size_t chain_length(const Side& s, std::span<const uint8_t> a) const {
    const size_t hs = header_size();
    size_t best = 0;
    const size_t scan = std::min(a.size(), opt.sniff_bytes);
    for (size_t start = 0; start + hs <= scan; ++start) {
      size_t at = start, n = 0;
      Side probe = {s.dir, {}, 0, 0, 0, Step::Data};
      while (at + hs <= a.size()) {
        const Header h = parse_header(a.data() + at);
        if (!header_sane(probe, h)) break;
        if (at + hs + h.size > a.size()) break;
        if (state.header == HeaderKind::Full) probe.last_serial = h.serial;
        at += hs + h.size;
        ++n;
      }
      best = std::max(best, n);
      if (best >= 8) break;  // convincing enough
    }
    return best;
  }

  void infer_midstream() {
    size_t best_score = 0;
    uint8_t best_type = 0;
    HeaderKind best_kind = HeaderKind::Unknown;
    std::string ties;  // other channel types that explain the bytes as well
    for (HeaderKind kind : {HeaderKind::Mini, HeaderKind::Full}) {
      for (const auto& ch : reg.channels()) {
        if (ch.layer) continue;
        state.header = kind;
        state.channel_type = ch.type;
        const size_t score = chain_length(sides[0], sides[0].avail()) + chain_length(sides[1], sides[1].avail());
        if (score > best_score) {
          best_score = score;
          best_type = ch.type;
          best_kind = kind;
          ties.clear();
        } else if (score == best_score && score > 0 && kind == best_kind) {
          ties += (ties.empty() ? "" : ", ") + ch.name;
        }
      }
    }
    for (auto& s : sides) {
      s.step = Step::Data;
      s.resync = true;
    }
    if (best_score < 2) {
      state.header = HeaderKind::Unknown;
      state.channel_type = 0;
      for (auto& s : sides) go_raw(s, "no link stage and no recognisable SPICE headers: cannot decode this connection");
      return;
    }
    state.header = best_kind;
    state.channel_type = best_type;
    problem(sides[1], Severity::Info, "midstream",
            "capture starts mid-session: inferred channel type " + reg.channel_name(best_type) + " with " +
                std::string(header_kind_name(best_kind)) + " headers from " + std::to_string(best_score) +
                " consecutive plausible headers" +
                (ties.empty() ? "" : " (the messages seen fit " + ties + " equally well)"),
            sides[1].offset);
    sink.on_channel_known(state);
  }

  // ---- what a direction still needs --------------------------------------------------

  // Bytes beyond those buffered that the current step needs before it can frame
  // anything; 0 when the step cannot tell (mid-session sniffing, resynchronising,
  // waiting on the other direction, SASL).
  size_t wanted(const Side& s) const {
    const size_t have = s.avail().size();
    auto more = [&](size_t need) -> size_t { return need > have ? need - have : 0; };
    switch (s.step) {
      case Step::CLink:
      case Step::SLink: {
        if (have < kLinkHeaderSize) return more(kLinkHeaderSize);
        const uint32_t size = le32(s.avail().data() + 12);
        return size > opt.max_link_size ? 0 : more(kLinkHeaderSize + size);
      }
      case Step::CAuthMech:
      case Step::SResult: return more(4);
      case Step::CTicket: return more(SPICE_TICKET_KEY_PAIR_LENGTH / 8);
      case Step::Data: {
        if (s.resync) return 0;
        const size_t hs = header_size();
        if (have < hs) return more(hs);
        const Header h = parse_header(s.avail().data());
        return h.size > opt.max_message_size ? 0 : more(hs + h.size);
      }
      default: return 0;
    }
  }

  // ---- the pump ------------------------------------------------------------------

  bool step(Side& s) {
    Side& peer = side(schema::opposite(s.dir));
    switch (s.step) {
      case Step::CLink: return client_link(s);
      case Step::CWaitReply:
        if (peer.step == Step::SLink) return false;
        if (peer.step == Step::Raw) {
          s.step = Step::Raw;
          return true;
        }
        if (state.client_common.has(SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) &&
            state.server_common.has(SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION)) {
          s.step = Step::CAuthMech;
        } else {
          s.step = Step::CTicket;
          state.auth = "spice";
        }
        return true;
      case Step::CAuthMech: {
        if (s.avail().size() < 4) return false;
        const uint32_t mech = le32(s.avail().data());
        state.auth = mech == SPICE_COMMON_CAP_AUTH_SASL ? "sasl" : "spice";
        return fixed_step(s, LinkStep::AuthMechanism, 4,
                          mech == SPICE_COMMON_CAP_AUTH_SASL ? Step::CSaslStart : Step::CTicket);
      }
      case Step::CTicket: return fixed_step(s, LinkStep::Ticket, SPICE_TICKET_KEY_PAIR_LENGTH / 8, Step::CWaitResult);
      case Step::CSaslStart:
        if (!sasl_step(s, LinkStep::SaslStart, 2, false)) return false;
        if (s.step == Step::CSaslStart) s.step = Step::CSaslWait;
        return true;
      case Step::CSaslWait:
        if (sasl_replied < sasl_sent) return false;
        s.step = sasl_complete ? Step::CWaitResult : Step::CSaslStep;
        return true;
      case Step::CSaslStep:
        if (!sasl_step(s, LinkStep::SaslStep, 1, false)) return false;
        if (s.step == Step::CSaslStep) s.step = Step::CSaslWait;
        return true;
      case Step::CWaitResult:
        if (peer.step == Step::Data) {
          s.step = Step::Data;
          return true;
        }
        if (peer.step == Step::Raw) {
          s.step = Step::Raw;
          return true;
        }
        return false;
      case Step::SLink: return server_link(s);
      case Step::SWaitAuth:
        if (peer.step == Step::CSaslStart || peer.step == Step::CSaslWait) {
          s.step = Step::SSaslMechList;
          return true;
        }
        if (peer.step == Step::CWaitResult) {
          s.step = Step::SResult;
          return true;
        }
        return false;
      case Step::SSaslMechList:
        if (!sasl_step(s, LinkStep::SaslMechList, 1, false)) return false;
        if (s.step == Step::SSaslMechList) s.step = Step::SSaslStartReply;
        return true;
      case Step::SSaslStartReply: return sasl_step(s, LinkStep::SaslStartReply, 1, true);
      case Step::SSaslStepReply: return sasl_step(s, LinkStep::SaslStepReply, 1, true);
      case Step::SResult: return link_result(s);
      case Step::Sniff: {
        const size_t buffered = sides[0].avail().size() + sides[1].avail().size();
        if (buffered < opt.sniff_bytes && !finishing) return false;
        infer_midstream();
        return true;
      }
      case Step::Data: return data_frame(s);
      case Step::Raw:
        if (s.avail().empty()) return false;
        emit_undecodable(s, s.avail().size());
        return true;
    }
    return false;
  }

  void pump() {
    bool progress = true;
    while (progress) {
      progress = false;
      for (auto& s : sides) {
        while (step(s)) progress = true;
      }
    }
  }
};

ConnectionFramer::ConnectionFramer(FrameSink& sink, bool midstream, FramerOptions options)
    : impl_(std::make_unique<Impl>(sink, midstream, options)) {}
ConnectionFramer::~ConnectionFramer() = default;

const ChannelState& ConnectionFramer::state() const { return impl_->state; }

Backlog ConnectionFramer::backlog(Direction dir) const {
  const Side& s = impl_->sides[static_cast<size_t>(dir)];
  return Backlog{s.offset, s.avail().size(), s.avail().empty() ? 0 : impl_->wanted(s)};
}

void ConnectionFramer::feed(Direction dir, std::span<const uint8_t> bytes, uint64_t ts_ns) {
  Side& s = impl_->side(dir);
  s.ts = ts_ns;
  s.buf.insert(s.buf.end(), bytes.begin(), bytes.end());
  impl_->pump();
}

void ConnectionFramer::gap(Direction dir, uint64_t bytes, uint64_t ts_ns) {
  auto& im = *impl_;
  Side& s = im.side(dir);
  s.ts = ts_ns;
  im.pump();
  const size_t partial = s.avail().size();
  im.problem(s, Severity::Error, std::string(kGapCode),
             std::to_string(bytes) + " bytes missing from the capture" +
                 (partial ? " (" + std::to_string(partial) + " bytes before it belong to a message cut short)" : ""),
             s.offset + partial);
  im.emit_undecodable(s, partial);
  s.offset += bytes;
  switch (s.step) {
    case Step::Data: s.resync = true; break;
    case Step::Sniff: case Step::Raw: break;
    default: im.go_raw(s, "bytes missing during the link stage");
  }
}

void ConnectionFramer::finish(uint64_t ts_ns) {
  auto& im = *impl_;
  im.finishing = true;
  for (auto& s : im.sides) s.ts = std::max(s.ts, ts_ns);
  im.pump();
  for (auto& s : im.sides) {
    if (s.avail().empty()) continue;
    im.problem(s, Severity::Warning, "incomplete",
               std::to_string(s.avail().size()) + " bytes at the end of the stream do not form a complete " +
                   (is_waiting(s.step) ? "link step" : "message"),
               s.offset);
    im.emit_undecodable(s, s.avail().size());
  }
}

}  // namespace sc::framing
