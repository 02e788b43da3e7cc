// video: a media player. One 320x240 region gets a new natural-looking frame
// every frame (so at 25-30 fps the server's stream detection kicks in), with a
// progress bar and time label updating around it.
#include <algorithm>
#include <cstdio>

#include "qxl-sim/font.hpp"
#include "qxl-sim/imagery.hpp"
#include "qxl-sim/scenario.hpp"

namespace sc::qxl {
namespace {

constexpr uint32_t kPlayer = 0x303034;
constexpr int32_t kVideoW = 320, kVideoH = 240;

class Video final : public Scenario {
 public:
  using Scenario::Scenario;

  void frame(uint64_t n, std::vector<Op>& out) override {
    const int32_t w = int32_t(size_.width), h = int32_t(size_.height);
    const Rect video{std::max(0, (w - kVideoW) / 2), std::max(0, (h - kVideoH) / 2 - 20), kVideoW,
                     kVideoH};
    const Rect bar{video.x, video.bottom() + 16, video.w, 6};
    if (n == 0) {
      out.push_back(FillOp{0, Rect{0, 0, w, h}, kPlayer});
      out.push_back(text(0, video.x, video.y - 18, "movie.webm", 0xe0e0e0, kPlayer));
      out.push_back(FillOp{0, bar, 0x505058});
    }
    out.push_back(BlitOp{0, video, video_frame(kVideoW, kVideoH, seed_, n, new_image_id())});
    if (n % 10 == 0) {
      const int32_t done = int32_t((n / 10) % uint64_t(bar.w + 1));
      out.push_back(FillOp{0, Rect{bar.x, bar.y, done, bar.h}, 0xd04040});
      char buf[16];
      std::snprintf(buf, sizeof buf, "%02u:%02u", unsigned(n / 25 / 60 % 60), unsigned(n / 25 % 60));
      out.push_back(text(0, bar.x, bar.bottom() + 6, buf, 0xe0e0e0, kPlayer));
    }
  }
};

}  // namespace

std::unique_ptr<Scenario> make_video(uint64_t seed, Size size) {
  return std::make_unique<Video>(seed, size);
}

}  // namespace sc::qxl
