// The description covers spice-protocol: every message number enums.h defines has
// an entry, with the header's name, on every channel that uses it.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "dissect/schema/field_list.hpp"
#include "dissect/schema/registry.hpp"

namespace {

using sc::schema::Direction;
using sc::schema::Registry;

struct EnumEntry {
  std::string symbol;
  long value;
};

// Reads the anonymous enums of spice/enums.h: SPICE_MSG[C]_<CHANNEL>_<NAME> = value.
std::vector<EnumEntry> message_enums() {
  std::ifstream in(SPICE_ENUMS_H);
  std::vector<EnumEntry> out;
  std::string line;
  long next = 0;
  const std::regex entry(R"(^\s*(SPICE_MSGC?_[A-Z0-9_]+)\s*(=\s*(\d+))?\s*,?\s*$)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.find("enum {") != std::string::npos) next = 0;
    if (!std::regex_match(line, m, entry)) continue;
    const long v = m[3].matched ? std::stol(m[3].str()) : next;
    next = v + 1;
    const std::string sym = m[1].str();
    if (sym.find("_END_") != std::string::npos || sym.ends_with("BASE_LAST")) continue;
    out.push_back({sym, v});
  }
  return out;
}

// Which channels carry the messages of an enum family.
std::vector<std::string> channels_of(const std::string& family) {
  static const std::map<std::string, std::vector<std::string>> families = {
      {"MAIN", {"main"}},         {"DISPLAY", {"display"}},   {"INPUTS", {"inputs"}},
      {"CURSOR", {"cursor"}},     {"PLAYBACK", {"playback"}}, {"RECORD", {"record"}},
      {"SMARTCARD", {"smartcard"}}, {"SPICEVMC", {"usbredir", "port", "webdav"}},
      {"PORT", {"port", "webdav"}}};
  if (auto it = families.find(family); it != families.end()) return it->second;
  return {"main", "display", "inputs", "cursor", "playback", "record", "tunnel", "smartcard", "usbredir", "port", "webdav"};
}

TEST(Registry, CoversEveryMessageOfSpiceProtocol) {
  const auto& reg = Registry::spice();
  const auto enums = message_enums();
  ASSERT_GT(enums.size(), 120u) << "could not read " << SPICE_ENUMS_H;
  size_t checked = 0;
  for (const auto& e : enums) {
    const bool client = e.symbol.starts_with("SPICE_MSGC_");
    const std::string rest = e.symbol.substr(client ? 11 : 10);
    std::string family;
    for (const char* f : {"MAIN", "DISPLAY", "INPUTS", "CURSOR", "PLAYBACK", "RECORD", "SMARTCARD", "SPICEVMC", "PORT"}) {
      if (rest.starts_with(std::string(f) + "_")) family = f;
    }
    // Five smartcard client names alias number 101; the description names it "data".
    if (family == "SMARTCARD" && client && rest != "SMARTCARD_DATA") continue;
    std::string name = family.empty() ? rest : rest.substr(family.size() + 1);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& channel : channels_of(family)) {
      const auto* ch = [&]() -> const sc::schema::ChannelDef* {
        for (const auto& c : reg.channels()) if (c.name == channel) return &c;
        return nullptr;
      }();
      ASSERT_NE(ch, nullptr) << channel;
      const auto* def = reg.find(ch->type, client ? Direction::C2S : Direction::S2C, static_cast<uint16_t>(e.value));
      ASSERT_NE(def, nullptr) << e.symbol << " missing on " << channel;
      EXPECT_EQ(def->full_name, channel + "." + name) << e.symbol;
      ++checked;
    }
  }
  EXPECT_GT(checked, 250u);
}

TEST(Registry, DottedPathsAreStable) {
  const auto& reg = Registry::spice();
  std::set<std::string> paths;
  for (const auto& n : reg.nodes()) paths.insert(n.path);
  for (const char* p : {"main.init.session_id", "inputs.mouse_position.x", "display.draw_copy.data.src_bitmap",
                        "display.draw_fill.base.clip.rects.rects.top", "link.mess.mess.caps.common_caps",
                        "cursor.set.cursor.header.width", "port.init.name", "display.surface_create.format"}) {
    EXPECT_TRUE(paths.count(p)) << p;
  }
}

TEST(Registry, ImagePayloadHeadersAreNamedUnderTheirBytes) {
  const auto& reg = Registry::spice();
  std::map<std::string, const sc::schema::LayoutNode*> by_path;
  for (const auto& n : reg.nodes()) by_path[n.path] = &n;
  const std::string img = "display.draw_copy.data.src_bitmap.";
  // The bytes keep their path and kind; the header fields hang below them.
  for (const char* c : {"quic", "lz_rgb", "lz4", "jpeg", "lz_plt", "zlib_glz", "jpeg_alpha"}) {
    auto it = by_path.find(img + c + ".data");
    ASSERT_NE(it, by_path.end()) << c;
    EXPECT_EQ(it->second->type->kind, sc::schema::Kind::Bytes);
    EXPECT_FALSE(it->second->children.empty()) << c << " has no header described";
  }
  for (const char* p : {"quic.data.quic.width", "lz_rgb.data.lz.width", "lz_rgb.data.glz.win_head_dist",
                        "lz4.data.lz4.chunks.size", "jpeg.data.jpeg.soi", "lz_plt.data.lz.type",
                        "zlib_glz.data.zlib.cmf", "jpeg_alpha.data.lz.top_down"}) {
    EXPECT_TRUE(by_path.count(img + p)) << p;
  }
  // LZ and GLZ words are big-endian, QUIC's little-endian.
  EXPECT_TRUE(by_path.at(img + "lz_rgb.data.lz.width")->type->big_endian);
  EXPECT_TRUE(by_path.at(img + "lz_rgb.data.glz.id")->type->big_endian);
  EXPECT_FALSE(by_path.at(img + "quic.data.quic.width")->type->big_endian);
  bool listed = false;
  for (const auto& f : sc::schema::list_fields(reg)) {
    if (f.path == img + "lz_rgb.data.lz.width") listed = f.kind == "u32be";
  }
  EXPECT_TRUE(listed);
}

TEST(Registry, LinkStepsAreDescribed) {
  const auto& reg = Registry::spice();
  for (auto step : {sc::schema::LinkStep::Mess, sc::schema::LinkStep::Reply, sc::schema::LinkStep::AuthMechanism,
                    sc::schema::LinkStep::Ticket, sc::schema::LinkStep::Result, sc::schema::LinkStep::SaslMechList,
                    sc::schema::LinkStep::SaslStart, sc::schema::LinkStep::SaslStartReply,
                    sc::schema::LinkStep::SaslStep, sc::schema::LinkStep::SaslStepReply}) {
    EXPECT_NE(reg.link(step), nullptr);
  }
}

}  // namespace
