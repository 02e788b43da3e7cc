#include "wireshark-plugin/images.hpp"

#include "util/png.hpp"

namespace sc::wsplugin {

// The options `spice-capture images` replays with (drawing on: SURFACE images
// read the surfaces the draws made), so both report the same images.
DisplayFeed::DisplayFeed() : state_({}, this) {}

void DisplayFeed::apply(uint32_t connection, uint64_t ts_ns, const decode::DecodedFrame& frame, ImageSink& sink) {
  sink_ = &sink;
  state_.apply_frame(connection, ts_ns, frame);
  sink_ = nullptr;
}

void DisplayFeed::on_image(uint32_t, uint64_t, const display::ImageInfo& info, const image::Pixels* pixels) {
  if (sink_) sink_->on_image(info, pixels);
}

DisplayFeed& DisplaySessions::feed_for(uint32_t connection_id) {
  if (connection_id == 0) return *unlinked_.emplace_back(std::make_unique<DisplayFeed>());
  auto& slot = sessions_[connection_id];
  if (!slot) slot = std::make_unique<DisplayFeed>();
  return *slot;
}

std::optional<uint32_t> DisplaySessions::keep_png(const image::Pixels& pixels, bool& refused_first) {
  refused_first = false;
  if (refused_ || png_budget_ == 0) return std::nullopt;  // 0: Export Objects turned off, nothing to note
  auto refuse = [&]() -> std::optional<uint32_t> {
    refused_first = !refused_;
    refused_ = true;
    return std::nullopt;
  };
  if (png_bytes_ >= png_budget_) return refuse();
  auto bytes = util::encode_png(pixels.width, pixels.height, pixels.data, pixels.has_alpha);
  if (bytes.empty()) return std::nullopt;  // libpng refused: nothing to export, not a memory matter
  if (bytes.size() > png_budget_ - png_bytes_) return refuse();
  png_bytes_ += bytes.size();
  pngs_.push_back(std::move(bytes));
  return static_cast<uint32_t>(pngs_.size() - 1);
}

}  // namespace sc::wsplugin
