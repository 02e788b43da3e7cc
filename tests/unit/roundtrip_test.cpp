// Decode and encode are inverses for every message of the description: a
// generated instance encodes, decodes completely, and re-encodes to the same bytes.
#include <gtest/gtest.h>
#include <spice/enums.h>

#include <nlohmann/json.hpp>

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/encoder.hpp"
#include "dissect/decode/json.hpp"

namespace {

using nlohmann::json;
using sc::schema::Kind;
using sc::schema::LayoutNode;
using sc::schema::Registry;

// A plausible instance of a node: integers take `v`, arrays two elements, byte
// fields as many bytes as their count will demand. Count fields are left out so
// that the encoder fills them in. Bytes with a described header are given by
// their header alone ("data.lz" beside "data"), which the encoder writes as the
// bytes: the decoded bytes then carry it, and the second encoding is of the bytes.
class Synth {
 public:
  Synth(const Registry& r, uint64_t v) : reg_(r), v_(v) {}

  json of(uint32_t id) {
    const LayoutNode& n = reg_.node(id);
    const auto& t = *n.type;
    switch (t.kind) {
      case Kind::Int: return v_;
      case Kind::Bytes: return bytes(n);
      case Kind::Array: return json::array({of(n.children[0]), of(n.children[0])});
      case Kind::Pointer: return of(n.children[0]);
      case Kind::Struct:
      case Kind::Switch: {
        json o = json::object();
        fill(n, o);
        return o;
      }
    }
    return nullptr;
  }

 private:
  // Only the switch case that an all-`v` message selects is filled in.
  std::pair<size_t, size_t> children_range(const LayoutNode& n) const {
    if (n.type->kind != Kind::Switch) return {0, n.children.size()};
    const auto& cases = n.type->cases;
    size_t chosen = cases.size();
    for (size_t c = 0; c < cases.size() && chosen == cases.size(); ++c) {
      for (const auto& m : cases[c].matches) {
        if (m.matches(v_)) chosen = c;
      }
    }
    for (size_t c = 0; c < cases.size() && chosen == cases.size(); ++c) {
      if (cases[c].matches.empty()) chosen = c;
    }
    if (chosen == cases.size()) return {0, 0};
    return {n.case_begin[chosen], n.case_begin[chosen + 1]};
  }

  void fill(const LayoutNode& n, json& o) {
    const auto [first, last] = children_range(n);
    for (size_t i = first; i < last; ++i) {
      const LayoutNode& c = reg_.node(n.children[i]);
      if (c.name.empty()) {
        fill(c, o);  // anonymous switch: its fields sit in this object
      } else if (c.type->kind == Kind::Bytes && !c.children.empty()) {
        json header = json::object();
        fill(c, header);
        for (auto& [k, v] : header.items()) o[c.name + "." + k] = v;
      } else if (!is_count(c.id)) {
        o[c.name] = of(c.id);
      }
    }
  }
  bool is_count(uint32_t id) const {
    for (const auto& n : reg_.nodes()) {
      if (n.count_ref == id && n.type->count.kind == sc::schema::Count::Kind::Field) return true;
    }
    return false;
  }
  json bytes(const LayoutNode& n) const {
    const auto& c = n.type->count;
    size_t len = 3;
    if (c.kind == sc::schema::Count::Kind::Fixed) len = c.fixed;
    if (c.kind == sc::schema::Count::Kind::ImageBits) len = ((c.bits * v_ + 7) / 8) * v_;
    if (n.type->text) return std::string(len, 'x');
    std::string hex;
    for (size_t i = 0; i < len; ++i) hex += "a5";
    return hex;
  }

  const Registry& reg_;
  uint64_t v_;
};

TEST(RoundTrip, EveryMessageEncodesAndDecodesSymmetrically) {
  const auto& reg = Registry::spice();
  sc::decode::NegotiatedCaps caps;
  size_t checked = 0;
  // Several integer values steer switches into different cases.
  for (uint64_t v : {0, 1, 2, 3, 4, 8, 101, 105}) {
    for (const auto& def : reg.messages()) {
      SCOPED_TRACE(def.full_name + " with integers = " + std::to_string(v));
      json j = Synth(reg, v).of(def.root);
      auto bytes = sc::decode::encode_message(def, j, caps);
      ASSERT_TRUE(bytes.ok()) << bytes.error().message;
      sc::decode::DecodedMessage m;
      sc::decode::decode_message(def, *bytes, caps, m);
      for (const auto& d : m.diagnostics) ADD_FAILURE() << d.path << ": " << d.text;
      ASSERT_TRUE(m.complete);
      std::string text;
      sc::decode::append_json(m, *bytes, text, {.bytes_inline_limit = UINT32_MAX});
      auto again = sc::decode::encode_message(def, json::parse(text), caps);
      ASSERT_TRUE(again.ok()) << again.error().message;
      EXPECT_EQ(*again, *bytes);
      ++checked;
    }
  }
  EXPECT_GT(checked, 8 * 200u);
}

TEST(RoundTrip, BigEndianHeaderFieldsEncodeMostSignificantByteFirst) {
  const auto* def = Registry::spice().find(SPICE_CHANNEL_DISPLAY, sc::schema::Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY);
  ASSERT_NE(def, nullptr);
  const json lz = {{"magic", 0x20205a4c}, {"version", 0x00010001}, {"type", 8 /* RGB32 */}, {"width", 640},
                   {"height", 480}, {"stride", 2560}, {"top_down", 1}};
  const json j = {{"base", {{"clip", {{"type", 0}}}}},
                  {"data", {{"src_bitmap", {{"descriptor", {{"type", SPICE_IMAGE_TYPE_LZ_RGB}}},
                                            {"lz_rgb", {{"data.lz", lz}}}}},
                            {"mask", {{"bitmap", nullptr}}}}}};
  auto bytes = sc::decode::encode_message(*def, j, {});
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  sc::decode::DecodedMessage m;
  sc::decode::decode_message(*def, *bytes, {}, m);
  ASSERT_TRUE(m.complete);
  const auto* data = m.find("display.draw_copy.data.src_bitmap.lz_rgb.data");
  ASSERT_NE(data, nullptr);
  ASSERT_EQ(data->size, 28u);  // data_size was filled in from the header
  const uint8_t* p = bytes->data() + data->offset;
  EXPECT_EQ(std::vector<uint8_t>(p + 12, p + 16), (std::vector<uint8_t>{0, 0, 0x02, 0x80}));  // width 640
  std::string text;
  sc::decode::append_json(m, *bytes, text, {.bytes_inline_limit = UINT32_MAX});
  const json back = json::parse(text)["data"]["src_bitmap"]["lz_rgb"]["data.lz"];
  EXPECT_EQ(back["width"], 640);
  EXPECT_EQ(back["type"], 8);
  EXPECT_EQ(back["top_down"], 1);
}

}  // namespace
