// The agent layer: stream reassembly (any split, losses, resynchronisation), the
// device-side chunk stream, key files and safe names, the capability-dependent
// layouts of the description, and the conversation's tracking and diagnostics,
// all on messages built with the project's encoder.
#include <gtest/gtest.h>
#include <spice/enums.h>
#include <spice/protocol.h>
#include <spice/vd_agent.h>

#include <algorithm>

#include "dissect/agent/chunk_stream.hpp"
#include "dissect/agent/conversation.hpp"
#include "dissect/agent/keyfile.hpp"
#include "dissect/decode/decoder.hpp"
#include "dissect/decode/json.hpp"
#include "dissect/proto/spice.hpp"
#include "dissect/schema/field_list.hpp"
#include "dissect/schema/secrets.hpp"
#include "tests/unit/wire_builder.hpp"
#include "util/sha256.hpp"

namespace sc::agent {
namespace {

using schema::Direction;
using test::Bytes;
using test::json;

Bytes pattern(size_t n, uint8_t seed) {
  Bytes v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

Bytes message(uint32_t type, const Bytes& body) {
  Bytes out;
  append_header(out, Header{kProtocol, type, 0, static_cast<uint32_t>(body.size())});
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// Cuts `stream` into carriers of `piece` bytes, as spice-gtk cuts messages.
std::vector<Bytes> carriers(const Bytes& stream, size_t piece) {
  std::vector<Bytes> out;
  for (size_t at = 0; at < stream.size(); at += piece)
    out.emplace_back(stream.begin() + ptrdiff_t(at), stream.begin() + ptrdiff_t(std::min(stream.size(), at + piece)));
  return out;
}

TEST(AgentStream, MessagesSurviveEverySplit) {
  Bytes stream = message(VD_AGENT_FILE_XFER_DATA, pattern(5000, 1));
  test::append(stream, message(VD_AGENT_CLIENT_DISCONNECTED, {}));  // zero-sized body
  test::append(stream, message(VD_AGENT_REPLY, pattern(8, 2)));
  for (size_t piece : {size_t(1), size_t(3), size_t(19), size_t(20), size_t(21), size_t(2048), size_t(9000)}) {
    AgentStream s;
    AgentStream::Output out;
    uint64_t carrier = 100;
    for (const auto& c : carriers(stream, piece)) s.feed(c, carrier++, out);
    ASSERT_EQ(out.messages.size(), 3u) << "piece " << piece;
    EXPECT_TRUE(out.problems.empty());
    EXPECT_EQ(out.messages[0].body, pattern(5000, 1));
    EXPECT_EQ(out.messages[0].span.first_carrier, 100u);
    EXPECT_EQ(out.messages[0].span.last_carrier, 100 + (5020 - 1) / piece);
    EXPECT_EQ(out.messages[1].header.type, uint32_t(VD_AGENT_CLIENT_DISCONNECTED));
    EXPECT_TRUE(out.messages[1].body.empty());
    EXPECT_EQ(out.messages[2].body, pattern(8, 2));
    EXPECT_EQ(s.pending(), 0u);
  }
}

TEST(AgentStream, LostBytesDropTheMessageAndResumeAtATrustedHeader) {
  const Bytes big = message(VD_AGENT_FILE_XFER_DATA, pattern(6000, 3));
  const auto pieces = carriers(big, 2048);
  AgentStream s;
  AgentStream::Output out;
  s.feed(pieces[0], 1, out);
  s.lose(2, out);  // pieces[1] was lost
  s.feed(pieces[2], 3, out);  // a continuation: not trusted, skipped
  s.feed(message(VD_AGENT_REPLY, pattern(8, 4)), 4, out);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].header.type, uint32_t(VD_AGENT_REPLY));
  ASSERT_EQ(out.problems.size(), 2u);
  EXPECT_EQ(out.problems[0].code, StreamProblem::Code::Lost);
  EXPECT_NE(out.problems[0].text.find("6000 bytes"), std::string::npos) << out.problems[0].text;
  EXPECT_EQ(out.problems[1].code, StreamProblem::Code::Unsynced);
  EXPECT_EQ(out.problems[1].carrier, 3u);
}

TEST(AgentStream, BadProtocolAndOversizeAreReportedAndTheStreamGoesOn) {
  Bytes bad = message(VD_AGENT_CLIPBOARD, pattern(4, 0));
  bad[0] = 7;  // protocol
  AgentStream::Options small;
  small.max_body = 100;
  AgentStream s(small);
  AgentStream::Output out;
  s.feed(bad, 1, out);
  s.feed(message(VD_AGENT_CLIPBOARD, pattern(4, 0)), 2, out);
  s.feed(message(VD_AGENT_CLIPBOARD, pattern(500, 0)), 3, out);
  s.feed(message(VD_AGENT_REPLY, pattern(8, 0)), 4, out);
  ASSERT_EQ(out.messages.size(), 3u);
  EXPECT_FALSE(out.messages[1].body_kept);  // 500 > 100: skipped by size, not kept
  EXPECT_TRUE(out.messages[1].body.empty());
  EXPECT_EQ(out.messages[2].header.type, uint32_t(VD_AGENT_REPLY));
  ASSERT_GE(out.problems.size(), 2u);
  EXPECT_EQ(out.problems[0].code, StreamProblem::Code::BadHeader);
  EXPECT_EQ(out.problems.back().code, StreamProblem::Code::Oversized);
}

TEST(AgentStream, AMidSessionStartWaitsForAPlausibleHeader) {
  AgentStream s;
  s.start_unsynced();
  AgentStream::Output out;
  s.feed(pattern(300, 9), 1, out);  // the tail of something
  s.feed(message(VD_AGENT_MOUSE_STATE, pattern(13, 1)), 2, out);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(s.synced());
  s.finish(3, out);
  EXPECT_EQ(out.problems.size(), 1u);  // the 300 skipped bytes
}

TEST(ChunkStream, FramesAndReassemblesPortsAtAnySplit) {
  const Bytes data = pattern(5000, 3);
  Bytes wire = frame_message(VD_AGENT_FILE_XFER_DATA, data);
  EXPECT_EQ(wire.size(), 5020u + 3 * kChunkHeaderSize);  // 2040-byte chunk payloads
  test::append(wire, frame_message(VD_AGENT_MOUSE_STATE, pattern(13, 2), kServerPort));
  for (size_t split : {size_t(1), size_t(7), size_t(8), size_t(9), size_t(2047), size_t(4000)}) {
    ChunkStream d;
    ChunkStream::Output out;
    for (size_t off = 0; off < wire.size(); off += split)
      d.feed(std::span(wire).subspan(off, std::min(split, wire.size() - off)), out);
    ASSERT_EQ(out.messages.size(), 2u) << "split " << split;
    EXPECT_EQ(out.messages[0].first, kClientPort);
    EXPECT_EQ(out.messages[0].second.body, data);
    EXPECT_EQ(out.messages[1].first, kServerPort);
    EXPECT_TRUE(out.problems.empty());
  }
}

TEST(KeyFile, ParsesNameAndSizeWithGLibEscapes) {
  // Senders include the C string's NUL (sizeof keeps it here).
  static const char kText[] = "# c\n[other]\nname=no\n[vdagent-file-xfer]\nname=\\sa b\\\\c.txt\nsize=42\n";
  auto info = parse_file_xfer_keyfile(std::string_view(kText, sizeof kText));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, " a b\\c.txt");
  EXPECT_EQ(info->size, 42u);
  EXPECT_FALSE(parse_file_xfer_keyfile("name=x\nsize=1\n"));
  EXPECT_FALSE(parse_file_xfer_keyfile("[vdagent-file-xfer]\nsize=12x\n")->size);
}

TEST(KeyFile, SafeNamesNeverLeaveTheDirectory) {
  EXPECT_EQ(safe_file_name("../../etc/passwd"), "passwd");
  EXPECT_EQ(safe_file_name("/abs/path.txt"), "path.txt");
  EXPECT_EQ(safe_file_name("C:\\Users\\x\\doc.pdf"), "doc.pdf");
  EXPECT_EQ(safe_file_name(".."), "received-file");
  EXPECT_EQ(safe_file_name("dir/"), "received-file");
  EXPECT_EQ(safe_file_name(std::string("a\nb\0c", 5)), "a_b_c");
}

// ---- the description's agent layer ----

const schema::MessageDef* agent_def(uint16_t type) {
  return schema::Registry::spice().find(proto::kAgentLayer, Direction::C2S, type);
}

decode::NegotiatedCaps agent_caps(std::initializer_list<uint32_t> bits) {
  decode::NegotiatedCaps c;
  c.channel.words = {0};
  for (uint32_t b : bits) c.channel.words[0] |= 1u << b;
  return c;
}

TEST(AgentLayer, CapabilitiesDecideTheClipboardLayouts) {
  const auto* grab = agent_def(VD_AGENT_CLIPBOARD_GRAB);
  ASSERT_TRUE(grab);
  // Without capabilities a grab is just its type list...
  Bytes plain;
  test::put_le(plain, VD_AGENT_CLIPBOARD_UTF8_TEXT, 4);
  test::put_le(plain, VD_AGENT_CLIPBOARD_IMAGE_PNG, 4);
  decode::DecodedMessage m;
  decode::decode_message(*grab, plain, {}, m);
  EXPECT_TRUE(m.complete);
  EXPECT_FALSE(m.find("agent.clipboard_grab.selection"));
  EXPECT_EQ(m.find("agent.clipboard_grab.types")->number, 2u);
  // ...with selection and serial it starts with both.
  const auto caps = agent_caps({VD_AGENT_CAP_CLIPBOARD_SELECTION, VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL});
  decode::decode_message(*grab, test::encode(grab, {{"types", {"utf8_text"}}}), {}, m);
  EXPECT_EQ(m.find("agent.clipboard_grab.types")->number, 1u);
  auto r = decode::encode_message(*grab, {{"selection", "primary"}, {"selection_reserved", "000000"},
                                          {"serial", 7}, {"types", {"utf8_text"}}}, caps);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 12u);
  decode::decode_message(*grab, *r, caps, m);
  EXPECT_TRUE(m.complete);
  EXPECT_EQ(m.find("agent.clipboard_grab.selection")->number, uint64_t(VD_AGENT_CLIPBOARD_SELECTION_PRIMARY));
  EXPECT_EQ(m.find("agent.clipboard_grab.serial")->number, 7u);
  EXPECT_EQ(m.find("agent.clipboard_grab.types")->number, 1u);
}

TEST(AgentLayer, DetailedErrorsAreOptionalEvenWhenNegotiated) {
  const auto* status = agent_def(VD_AGENT_FILE_XFER_STATUS);
  const auto caps = agent_caps({VD_AGENT_CAP_FILE_XFER_DETAILED_ERRORS});
  Bytes body;
  test::put_le(body, 3, 4);
  test::put_le(body, VD_AGENT_FILE_XFER_STATUS_NOT_ENOUGH_SPACE, 4);
  decode::DecodedMessage m;
  decode::decode_message(*status, body, caps, m);  // spice-gtk's echo: no detail
  EXPECT_TRUE(m.complete);
  EXPECT_TRUE(m.diagnostics.empty());
  test::put_le(body, 1234, 8);
  decode::decode_message(*status, body, caps, m);
  EXPECT_TRUE(m.complete);
  EXPECT_EQ(m.find("agent.file_xfer_status.disk_free_space")->number, 1234u);
}

TEST(AgentLayer, EveryMessageTypeOfVdAgentHIsDescribedBothWays) {
  for (uint32_t t = VD_AGENT_MOUSE_STATE; t < VD_AGENT_END_MESSAGE; ++t) {
    for (auto d : {Direction::C2S, Direction::S2C}) {
      const auto* def = schema::Registry::spice().find(proto::kAgentLayer, d, static_cast<uint16_t>(t));
      ASSERT_TRUE(def) << "agent message type " << t;
      EXPECT_TRUE(def->full_name.starts_with("agent."));
    }
  }
  // A layer is never a wire channel.
  const auto* layer = schema::Registry::spice().channel(proto::kAgentLayer);
  ASSERT_TRUE(layer);
  EXPECT_TRUE(layer->layer);
}

TEST(FieldList, EachDirectionShowsItsOwnMessageNumber) {
  std::string line;
  for (const auto& f : schema::list_fields(schema::Registry::spice())) {
    if (f.path == "main.agent_data") line = schema::field_line(f);
  }
  EXPECT_EQ(line, "main.agent_data\tmessage\tc2s 107, s2c 109");
}

TEST(SecretClasses, ParseAndRedactOnlyTheChosenClasses) {
  std::string error;
  EXPECT_EQ(schema::parse_secret_classes("clipboard,files", error),
            schema::SecretMask(schema::kSecretClipboard | schema::kSecretFiles));
  EXPECT_EQ(schema::parse_secret_classes("all", error), schema::kSecretAll);
  EXPECT_FALSE(schema::parse_secret_classes("clipboard,passwords", error));
  EXPECT_NE(error.find("passwords"), std::string::npos);
  EXPECT_EQ(schema::secret_class_names(schema::kSecretKeys | schema::kSecretAudio), "keys,audio");

  const auto* clip = agent_def(VD_AGENT_CLIPBOARD);
  Bytes body = test::encode(clip, {{"type", "utf8_text"}, {"data", "68656c6c6f"}});
  decode::DecodedMessage m;
  decode::decode_message(*clip, body, {}, m);
  Bytes keys_only = body, clipboard = body;
  EXPECT_EQ(decode::redact_wire(m, keys_only, 0, schema::kSecretKeys), 0u);
  EXPECT_EQ(keys_only, body);
  EXPECT_EQ(decode::redact_wire(m, clipboard, 0, schema::kSecretClipboard), 1u);
  EXPECT_EQ(clipboard[4], 0);
  std::string j;
  decode::append_json(m, body, j, {.redact = schema::kSecretClipboard});
  EXPECT_NE(j.find("\"data\":null"), std::string::npos) << j;
}

// ---- the conversation ----

struct Recorder : Listener {
  std::vector<std::string> names;
  std::vector<ClipboardItem> clips;
  std::vector<Bytes> clip_data;
  std::vector<FileTransfer> ended;
  std::vector<AgentDiagnostic> diags;
  Bytes file;
  void on_agent_message(const AgentMessageEvent& e) override { names.push_back(e.def ? e.def->full_name : "?"); }
  void on_clipboard(const ClipboardItem& c) override {
    clips.push_back(c);
    clip_data.emplace_back(c.data.begin(), c.data.end());
  }
  void on_file_data(const FileTransfer&, std::span<const uint8_t> b) override { file.insert(file.end(), b.begin(), b.end()); }
  void on_transfer_end(const FileTransfer& t) override { ended.push_back(t); }
  void on_diagnostic(const AgentDiagnostic& d) override { diags.push_back(d); }
  bool has(std::string_view code) const {
    return std::any_of(diags.begin(), diags.end(), [&](const auto& d) { return d.code == code; });
  }
};

// Drives a Conversation with main-channel messages encoded from JSON.
class ConversationTest : public ::testing::Test {
 protected:
  Recorder rec;
  Conversation conv{rec};
  uint64_t carrier = 0;
  uint64_t ts = 1'000'000'000;

  void main(Direction d, uint16_t type, const json& fields) {
    const auto* def = test::msg(SPICE_CHANNEL_MAIN, d, type);
    const Bytes body = test::encode(def, fields);
    decode::DecodedMessage m;
    decode::decode_message(*def, body, {}, m);
    conv.on_main_message(d, m, body, carrier++, ts);
  }
  // One agent message from `d`, cut into 2048-byte main.agent_data bodies.
  void agent(Direction d, uint32_t type, const json& fields, const decode::NegotiatedCaps& caps = {}) {
    const auto* def = schema::Registry::spice().find(proto::kAgentLayer, d, static_cast<uint16_t>(type));
    auto body = decode::encode_message(*def, fields, caps);
    ASSERT_TRUE(body) << body.error().message;
    raw_agent(d, message(type, *body));
  }
  void raw_agent(Direction d, const Bytes& stream) {
    const uint16_t type = d == Direction::C2S ? uint16_t{SPICE_MSGC_MAIN_AGENT_DATA} : uint16_t{SPICE_MSG_MAIN_AGENT_DATA};
    const auto* def = test::msg(SPICE_CHANNEL_MAIN, d, type);
    for (const auto& piece : carriers(stream, kMaxCarrier)) {
      decode::DecodedMessage m;
      decode::decode_message(*def, piece, {}, m);
      conv.on_main_message(d, m, piece, carrier++, ts);
    }
  }
  void announce(Direction d, std::initializer_list<uint32_t> caps) {
    uint32_t word = 0;
    for (uint32_t c : caps) word |= 1u << c;
    agent(d, VD_AGENT_ANNOUNCE_CAPABILITIES, {{"request", d == Direction::C2S ? 1 : 0}, {"caps", word}});
  }
  void start(uint32_t client_tokens = 10) {
    main(Direction::S2C, SPICE_MSG_MAIN_INIT,
         {{"session_id", 1}, {"display_channels_hint", 1}, {"supported_mouse_modes", 3}, {"current_mouse_mode", 1},
          {"agent_connected", 1}, {"agent_tokens", client_tokens}, {"multi_media_time", 0}, {"ram_hint", 0}});
    main(Direction::C2S, SPICE_MSGC_MAIN_AGENT_START, {{"num_tokens", 10}});
  }
};

TEST_F(ConversationTest, NegotiatedCapabilitiesChangeHowLaterMessagesDecode) {
  start();
  announce(Direction::C2S, {VD_AGENT_CAP_CLIPBOARD_SELECTION, VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL, VD_AGENT_CAP_REPLY});
  announce(Direction::S2C, {VD_AGENT_CAP_CLIPBOARD_SELECTION, VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL});
  EXPECT_TRUE(conv.negotiated().channel.has(VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL));
  EXPECT_FALSE(conv.negotiated().channel.has(VD_AGENT_CAP_REPLY));  // only the client has it
  const auto caps = conv.negotiated();
  agent(Direction::S2C, VD_AGENT_CLIPBOARD_GRAB,
        {{"selection", "clipboard"}, {"selection_reserved", "000000"}, {"serial", 4}, {"types", {"utf8_text"}}}, caps);
  agent(Direction::C2S, VD_AGENT_CLIPBOARD_REQUEST,
        {{"selection", "clipboard"}, {"selection_reserved", "000000"}, {"type", "utf8_text"}}, caps);
  const std::string text = "grüße ✓";
  std::string hex;
  for (unsigned char c : text) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", c);
    hex += b;
  }
  agent(Direction::S2C, VD_AGENT_CLIPBOARD,
        {{"selection", "clipboard"}, {"selection_reserved", "000000"}, {"type", "utf8_text"}, {"data", hex}}, caps);
  ASSERT_EQ(rec.clips.size(), 1u);
  EXPECT_EQ(rec.clips[0].dir, Direction::S2C);
  EXPECT_EQ(rec.clips[0].selection, 0u);
  EXPECT_EQ(rec.clips[0].serial, 4u);
  EXPECT_EQ(std::string(rec.clip_data[0].begin(), rec.clip_data[0].end()), text);
  EXPECT_EQ(rec.clips[0].sha256, util::sha256_hex(rec.clip_data[0]));
  EXPECT_TRUE(rec.diags.empty()) << rec.diags[0].code;
}

TEST_F(ConversationTest, ClipboardOwnershipProblemsAreReported) {
  start();
  ts += 0;
  agent(Direction::C2S, VD_AGENT_CLIPBOARD_GRAB, {{"types", {"utf8_text"}}});
  ts += 20'000'000;  // 20 ms later the guest grabs too
  agent(Direction::S2C, VD_AGENT_CLIPBOARD_GRAB, {{"types", {"utf8_text"}}});
  EXPECT_TRUE(rec.has("clipboard_grab_race"));
  agent(Direction::C2S, VD_AGENT_CLIPBOARD_RELEASE, json::object());  // the guest owns it now
  EXPECT_TRUE(rec.has("clipboard_release_not_owner"));
  agent(Direction::S2C, VD_AGENT_CLIPBOARD_REQUEST, {{"type", "utf8_text"}});  // asks the client, which released
  EXPECT_TRUE(rec.has("clipboard_request_not_owner"));
  agent(Direction::C2S, VD_AGENT_MAX_CLIPBOARD, {{"max", 3}});
  agent(Direction::S2C, VD_AGENT_CLIPBOARD, {{"type", "utf8_text"}, {"data", "61626364"}});
  EXPECT_TRUE(rec.has("clipboard_over_max"));
}

TEST_F(ConversationTest, FileTransfersAreFollowedToTheirEnd) {
  start(1000);
  const Bytes content = pattern(70000, 5);
  agent(Direction::C2S, VD_AGENT_FILE_XFER_START, {{"id", 1}, {"keyfile", "[vdagent-file-xfer]\nname=../x/a.bin\nsize=70000\n"}});
  agent(Direction::S2C, VD_AGENT_FILE_XFER_STATUS, {{"id", 1}, {"result", "can_send_data"}});
  for (size_t at = 0; at < content.size(); at += 65536) {
    const size_t n = std::min<size_t>(65536, content.size() - at);
    Bytes body;
    test::put_le(body, 1, 4);
    test::put_le(body, n, 8);
    body.insert(body.end(), content.begin() + ptrdiff_t(at), content.begin() + ptrdiff_t(at + n));
    raw_agent(Direction::C2S, message(VD_AGENT_FILE_XFER_DATA, body));
  }
  agent(Direction::S2C, VD_AGENT_FILE_XFER_STATUS, {{"id", 1}, {"result", "success"}});
  ASSERT_EQ(rec.ended.size(), 1u);
  const FileTransfer& t = rec.ended[0];
  EXPECT_EQ(t.status, FileTransfer::Status::Success);
  EXPECT_EQ(t.name, "../x/a.bin");  // as sent; receivers make it safe
  EXPECT_EQ(t.bytes_seen, 70000u);
  EXPECT_EQ(t.sha256, util::sha256_hex(content));
  EXPECT_EQ(rec.file, content);
  EXPECT_FALSE(rec.has("file_xfer_short"));

  // A short success, a failure with detail, and one the capture never sees end.
  agent(Direction::C2S, VD_AGENT_FILE_XFER_START, {{"id", 2}, {"keyfile", "[vdagent-file-xfer]\nname=b\nsize=10\n"}});
  agent(Direction::S2C, VD_AGENT_FILE_XFER_STATUS, {{"id", 2}, {"result", "success"}});
  EXPECT_TRUE(rec.has("file_xfer_short"));
  agent(Direction::C2S, VD_AGENT_FILE_XFER_START, {{"id", 3}, {"keyfile", "[vdagent-file-xfer]\nname=c\nsize=10\n"}});
  agent(Direction::S2C, VD_AGENT_FILE_XFER_STATUS, {{"id", 3}, {"result", "disabled"}});
  EXPECT_EQ(rec.ended.back().status, FileTransfer::Status::Disabled);
  EXPECT_TRUE(rec.has("file_xfer_failed"));
  agent(Direction::C2S, VD_AGENT_FILE_XFER_START, {{"id", 4}, {"keyfile", "[vdagent-file-xfer]\nname=d\nsize=10\n"}});
  ts += 11'000'000'000;
  main(Direction::S2C, SPICE_MSG_MAIN_AGENT_TOKEN, {{"num_tokens", 1}});
  EXPECT_TRUE(rec.has("file_xfer_stalled"));
  conv.finish(ts);
  EXPECT_EQ(rec.ended.back().status, FileTransfer::Status::Incomplete);
  EXPECT_TRUE(rec.has("file_xfer_unfinished"));
}

TEST_F(ConversationTest, TokensAndAgentStateAreChecked) {
  start(2);
  agent(Direction::C2S, VD_AGENT_MOUSE_STATE, {{"x", 1}, {"y", 2}, {"buttons", 0}, {"display_id", 0}});
  agent(Direction::C2S, VD_AGENT_MOUSE_STATE, {{"x", 1}, {"y", 2}, {"buttons", 0}, {"display_id", 0}});
  ts += 2'000'000'000;  // two seconds without tokens
  agent(Direction::C2S, VD_AGENT_MOUSE_STATE, {{"x", 1}, {"y", 2}, {"buttons", 0}, {"display_id", 0}});
  EXPECT_TRUE(rec.has("agent_data_without_tokens"));
  main(Direction::S2C, SPICE_MSG_MAIN_AGENT_DISCONNECTED, {{"error_code", 0}});
  agent(Direction::C2S, VD_AGENT_MOUSE_STATE, {{"x", 1}, {"y", 2}, {"buttons", 0}, {"display_id", 0}});
  EXPECT_TRUE(rec.has("agent_not_connected"));
  EXPECT_EQ(conv.agent_connected(), false);
  conv.finish(ts);
  EXPECT_TRUE(rec.has("agent_token_starvation"));
}

TEST_F(ConversationTest, AGapCutsTheMessageAndTheNextOneDecodes) {
  start(1000);
  Bytes big;
  test::put_le(big, 9, 4);
  test::put_le(big, 5000, 8);
  test::append(big, pattern(5000, 1));
  const auto pieces = carriers(message(VD_AGENT_FILE_XFER_DATA, big), kMaxCarrier);
  const auto* def = test::msg(SPICE_CHANNEL_MAIN, Direction::C2S, SPICE_MSGC_MAIN_AGENT_DATA);
  decode::DecodedMessage m;
  decode::decode_message(*def, pieces[0], {}, m);
  conv.on_main_message(Direction::C2S, m, pieces[0], carrier++, ts);
  conv.on_gap(Direction::C2S, carrier, ts);
  agent(Direction::C2S, VD_AGENT_MOUSE_STATE, {{"x", 5}, {"y", 6}, {"buttons", 0}, {"display_id", 0}});
  EXPECT_TRUE(rec.has("agent_message_lost"));
  ASSERT_FALSE(rec.names.empty());
  EXPECT_EQ(rec.names.back(), "agent.mouse_state");
}

}  // namespace
}  // namespace sc::agent
