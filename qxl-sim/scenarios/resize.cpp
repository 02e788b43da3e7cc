// resize: mode changes. Every 40 frames the primary surface is destroyed and
// re-created at the next size of a table, the screen is repainted and a monitors
// config announces one head (or two side by side on wide modes). In between,
// tiles of a grid change colour.
#include <array>
#include <cstdio>

#include "qxl-sim/font.hpp"
#include "qxl-sim/scenario.hpp"

namespace sc::qxl {
namespace {

constexpr uint64_t kPeriod = 40;
const std::array<Size, 4> kModes = {Size{640, 480}, Size{1024, 768}, Size{800, 600}, Size{1280, 720}};

class Resize final : public Scenario {
 public:
  using Scenario::Scenario;

  void frame(uint64_t n, std::vector<Op>& out) override {
    if (n == 0) {
      current_ = size_;
      repaint(out);
      return;
    }
    if (n % kPeriod == 0) {
      current_ = kModes[(n / kPeriod - 1) % kModes.size()];
      out.push_back(ResizeOp{current_});
      repaint(out);
      return;
    }
    const int32_t cols = int32_t(current_.width) / 64, rows = (int32_t(current_.height) - 40) / 64;
    const int32_t c = rng_.range(0, cols - 1), r = rng_.range(0, rows - 1);
    out.push_back(FillOp{0, Rect{c * 64 + 2, 40 + r * 64 + 2, 60, 60}, rng_.color()});
  }

 private:
  void repaint(std::vector<Op>& out) {
    const int32_t w = int32_t(current_.width), h = int32_t(current_.height);
    out.push_back(FillOp{0, Rect{0, 0, w, h}, 0x101828});
    char buf[32];
    std::snprintf(buf, sizeof buf, "mode %ux%u", current_.width, current_.height);
    out.push_back(text(0, 10, 12, buf, 0xffffff, 0x101828));
    for (int32_t y = 40; y + 64 <= h; y += 64)
      for (int32_t x = 0; x + 64 <= w; x += 64)
        out.push_back(FillOp{0, Rect{x + 2, y + 2, 60, 60}, 0x203040 + uint32_t((x + y) / 64) * 0x050301});
    MonitorsOp mon;
    if (w >= 1280) mon.heads = {Rect{0, 0, w / 2, h}, Rect{w / 2, 0, w - w / 2, h}};
    else mon.heads = {Rect{0, 0, w, h}};
    out.push_back(mon);
  }

  Size current_;
};

}  // namespace

std::unique_ptr<Scenario> make_resize(uint64_t seed, Size size) {
  return std::make_unique<Resize>(seed, size);
}

}  // namespace sc::qxl
