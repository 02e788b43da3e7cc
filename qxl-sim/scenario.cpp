#include "qxl-sim/scenario.hpp"

#include "qxl-sim/font.hpp"

namespace sc::qxl {

// Defined in scenarios/*.cpp, one per workload.
std::unique_ptr<Scenario> make_desktop(uint64_t seed, Size size);
std::unique_ptr<Scenario> make_office(uint64_t seed, Size size);
std::unique_ptr<Scenario> make_photo(uint64_t seed, Size size);
std::unique_ptr<Scenario> make_video(uint64_t seed, Size size);
std::unique_ptr<Scenario> make_cursor(uint64_t seed, Size size);
std::unique_ptr<Scenario> make_resize(uint64_t seed, Size size);

TextOp Scenario::text(uint32_t surface, int32_t x, int32_t y, std::string s, uint32_t fg,
                      uint32_t bg) {
  TextOp t;
  t.surface = surface;
  t.origin = Point{x, y};
  t.back = Rect{x, y, int32_t(s.size()) * kCellWidth, kCellHeight};
  t.text = std::move(s);
  t.foreground = fg;
  t.background = bg;
  return t;
}

const std::vector<ScenarioInfo>& scenario_table() {
  static const std::vector<ScenarioInfo> table = {
      {"desktop", "window drags (copy-bits), typing, menus on an offscreen surface, icons, fills",
       {800, 600}, make_desktop},
      {"office", "small scattered updates: typing, caret, status bar, scrolling by copy-bits",
       {800, 600}, make_office},
      {"photo", "photographic images (QUIC/JPEG candidates) placed over a gallery", {800, 600},
       make_photo},
      {"video", "a 320x240 region redrawn every frame (stream candidate) in a player", {800, 600},
       make_video},
      {"cursor", "mono and alpha cursor shapes, moves and hides on the cursor ring", {800, 600},
       make_cursor},
      {"resize", "primary surface re-created at several sizes, with monitors configs", {800, 600},
       make_resize},
  };
  return table;
}

const ScenarioInfo* find_scenario(std::string_view name) {
  for (const auto& s : scenario_table())
    if (s.name == name) return &s;
  return nullptr;
}

std::unique_ptr<Scenario> make_scenario(std::string_view name, uint64_t seed, Size size) {
  const ScenarioInfo* info = find_scenario(name);
  if (!info) return nullptr;
  if (size.width == 0 || size.height == 0) size = info->default_size;
  return info->make(seed, size);
}

uint64_t sequence_hash(std::string_view name, uint64_t seed, uint64_t frames, Size size) {
  auto sc = make_scenario(name, seed, size);
  if (!sc) return 0;
  uint64_t h = 0xcbf29ce484222325ULL;
  std::vector<Op> ops;
  for (uint64_t n = 0; n < frames; ++n) {
    ops.clear();
    sc->frame(n, ops);
    for (const Op& op : ops) {
      for (char c : describe(op)) {
        h ^= uint8_t(c);
        h *= 0x100000001b3ULL;
      }
      h ^= '\n';
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

}  // namespace sc::qxl
