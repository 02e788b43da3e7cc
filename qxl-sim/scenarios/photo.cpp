// photo: a picture viewer. Every few frames a new photographic image (smooth
// multi-octave noise with grain) lands on a dark gallery; now and then an older
// photo is shown again with its cached id, and captions change in between.
#include <algorithm>
#include <cstdio>

#include "qxl-sim/font.hpp"
#include "qxl-sim/imagery.hpp"
#include "qxl-sim/scenario.hpp"

namespace sc::qxl {
namespace {

constexpr uint32_t kGallery = 0x181818;

class Photo final : public Scenario {
 public:
  using Scenario::Scenario;

  void frame(uint64_t n, std::vector<Op>& out) override {
    const int32_t w = int32_t(size_.width), h = int32_t(size_.height);
    if (n == 0) {
      out.push_back(FillOp{0, Rect{0, 0, w, h}, kGallery});
      out.push_back(text(0, 10, h - 18, "gallery", 0xc0c0c0, kGallery));
    }
    if (n % 6 != 0) {
      if (n % 6 == 3) caption(n, out);
      return;
    }
    ImagePtr img;
    if (!shown_.empty() && rng_.chance(25)) {
      img = shown_[size_t(rng_.range(0, int32_t(shown_.size()) - 1))];  // cached re-show
    } else {
      const uint32_t iw = uint32_t(rng_.range(std::min(160, w), std::min(480, w)));
      const uint32_t ih = uint32_t(rng_.range(std::min(120, h - 24), std::min(360, h - 24)));
      auto fresh = natural_image(iw, ih, rng_.next(), new_image_id());
      auto copy = std::make_shared<Image>(*fresh);
      copy->cacheable = true;
      img = copy;
      shown_.push_back(img);
      if (shown_.size() > 6) shown_.erase(shown_.begin());
    }
    const int32_t x = rng_.range(0, w - int32_t(img->width));
    const int32_t y = rng_.range(0, h - 24 - int32_t(img->height));
    out.push_back(BlitOp{0, Rect{x, y, int32_t(img->width), int32_t(img->height)}, img});
  }

 private:
  void caption(uint64_t n, std::vector<Op>& out) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "photo %04u  %3u%%", unsigned(n / 6), unsigned(n * 7 % 101));
    out.push_back(text(0, 120, int32_t(size_.height) - 18, buf, 0xc0c0c0, kGallery));
  }

  std::vector<ImagePtr> shown_;
};

}  // namespace

std::unique_ptr<Scenario> make_photo(uint64_t seed, Size size) {
  return std::make_unique<Photo>(seed, size);
}

}  // namespace sc::qxl
