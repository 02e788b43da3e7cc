// Fuzzes the agent layer: reassembly of main.agent_data into agent messages
// (losses, mid-session starts, hostile headers), the conversation that follows
// tokens, clipboard and transfers, the agent message decoders under the
// capabilities the input itself negotiates, file-transfer key files, safe file
// names, and the device-side chunk stream.
//
// Why: every byte of an agent message comes from a peer (a guest agent can be
// anything), sizes span messages, and the conversation keeps state across them.
//
// Input: records of [flags u8][length u16 LE][payload].
//   flags bit 0       direction (0 client to guest, 1 guest to client)
//   flags bits 1..2   0 a main.agent_data body, 1 another main message (payload: type
//                     u16 LE, then its body), 2 bytes lost before the next record,
//                     3 the capture starts here mid-session
//   flags bits 3..7   time passing before the record, in 100 ms steps
// make_seeds writes real sessions in this form.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "dissect/agent/chunk_stream.hpp"
#include "dissect/agent/conversation.hpp"
#include "dissect/agent/keyfile.hpp"
#include "dissect/decode/decoder.hpp"
#include "dissect/decode/json.hpp"

namespace {

using sc::schema::Direction;

[[noreturn]] void die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_agent: %s: %s\n", what, detail.c_str());
  std::abort();
}

struct Checker : sc::agent::Listener {
  void on_agent_message(const sc::agent::AgentMessageEvent& e) override {
    if (e.message.body_kept && e.message.body.size() != e.message.header.size) die("body size", "");
    if (!e.def) return;
    std::string json;
    sc::decode::append_json(e.decoded, e.message.body, json, {.bytes_inline_limit = 16});
    if (nlohmann::json::parse(json, nullptr, false).is_discarded()) die("invalid JSON", json);
    (void)sc::decode::to_text(e.decoded, e.message.body, 200, sc::schema::kSecretAll);
    for (const auto& v : e.decoded.values) {
      if (uint64_t{v.offset} + v.size > e.message.body.size()) die("value outside the body", e.def->full_name);
    }
  }
  void on_clipboard(const sc::agent::ClipboardItem& c) override {
    for (uint8_t b : c.data) sum += b;  // reads every byte: ASan checks the span
    if (c.sha256.size() != 64) die("sha256", c.sha256);
  }
  void on_file_data(const sc::agent::FileTransfer&, std::span<const uint8_t> b) override {
    for (uint8_t x : b) sum += x;
  }
  void on_transfer_end(const sc::agent::FileTransfer& t) override {
    if (t.status == sc::agent::FileTransfer::Status::InProgress) die("transfer ended in progress", t.name);
    const std::string safe = sc::agent::safe_file_name(t.name);
    if (safe.empty() || safe == "." || safe == ".." || safe.find('/') != std::string::npos) die("unsafe name", safe);
  }
  void on_diagnostic(const sc::agent::AgentDiagnostic& d) override {
    if (d.code.empty() || d.text.empty()) die("empty diagnostic", d.code);
  }
  uint64_t sum = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& reg = sc::schema::Registry::spice();
  Checker checker;
  sc::agent::Conversation::Options options;
  options.max_body = 1u << 20;  // keeps the fuzzer's memory small; larger bodies take the skip path
  sc::agent::Conversation conv(checker, options);
  sc::decode::DecodedMessage decoded;
  uint64_t ts = 1, carrier = 0;
  size_t at = 0;
  while (at + 3 <= size) {
    const uint8_t flags = data[at];
    const size_t len = std::min<size_t>(data[at + 1] | size_t{data[at + 2]} << 8, size - at - 3);
    const std::span<const uint8_t> payload(data + at + 3, len);
    at += 3 + len;
    const Direction dir = (flags & 1) ? Direction::S2C : Direction::C2S;
    ts += static_cast<uint64_t>(flags >> 3) * 100'000'000;
    switch ((flags >> 1) & 3) {
      case 0: {
        const uint16_t type = dir == Direction::C2S ? 107 : 109;  // main.agent_data both ways
        const auto* def = reg.find(1, dir, type);
        sc::decode::decode_message(*def, payload, {}, decoded);
        conv.on_main_message(dir, decoded, payload, carrier++, ts);
        break;
      }
      case 1: {
        if (payload.size() < 2) break;
        const auto* def = reg.find(1, dir, static_cast<uint16_t>(payload[0] | payload[1] << 8));
        if (!def) break;
        const auto body = payload.subspan(2);
        sc::decode::decode_message(*def, body, {}, decoded);
        conv.on_main_message(dir, decoded, body, carrier++, ts);
        break;
      }
      case 2: conv.on_gap(dir, carrier, ts); break;
      case 3: conv.start_midstream(); break;
    }
    const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    (void)sc::agent::parse_file_xfer_keyfile(text);
    const std::string safe = sc::agent::safe_file_name(text);
    if (safe.find('/') != std::string::npos || safe == "..") die("unsafe name", safe);
  }
  conv.finish(ts);
  // The same bytes as the guest's virtio port would see them.
  sc::agent::ChunkStream chunks(sc::agent::AgentStream::Options{1u << 20, 17});
  sc::agent::ChunkStream::Output out;
  chunks.feed(std::span(data, size), out);
  return 0;
}
