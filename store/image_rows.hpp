#pragma once
// The display channels' images as rows of the `images` table (docs/store.md).
//
// At import each session's display messages go through one DisplayState that
// decodes every image with the client's pixmap cache, palettes and GLZ dictionary
// but draws nothing (drawing is `render`'s work, on demand). What it reports about
// an image becomes a row; a bad image also becomes a problem row of the message
// that carried it, naming the body offset. ImageFeed runs on the decoding thread;
// ImageTable inserts on the store writer's worker, with the message's row id.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>
#include <string>
#include <string_view>

#include "dissect/decode/frame_decode.hpp"
#include "dissect/display/display_state.hpp"
#include "store/database.hpp"

namespace sc::store {

// One session's display channels (or one display channel no session claimed),
// frame by frame in capture order.
class ImageFeed final : public display::DisplayListener {
 public:
  // Offsets are in the frame's body (sub-messages' included).
  using ImageFn = std::function<void(const display::ImageInfo&)>;
  using ProblemFn = std::function<void(const decode::Diagnostic&)>;
  ImageFeed(ImageFn on_image, ProblemFn on_problem, image::Limits limits = {});

  void on_frame(uint32_t connection, uint64_t ts_ns, const decode::DecodedFrame& frame);

  void on_image(uint32_t connection, uint64_t ts_ns, const display::ImageInfo& info,
                const image::Pixels* pixels) override;
  void on_problem(uint32_t connection, uint64_t ts_ns, const decode::Diagnostic& d) override;

 private:
  ImageFn image_;
  ProblemFn problem_;
  display::DisplayState state_;
};

// Rows go in kRowsPerInsert at a time (a text console makes an image per glyph);
// flush() before a commit.
class ImageTable {
 public:
  explicit ImageTable(Database& db);
  // field_id: the names table id of info.field (the writer keeps that table).
  Result<void> insert(int64_t message, int64_t field_id, const display::ImageInfo& info);
  Result<void> flush();

 private:
  static constexpr size_t kRowsPerInsert = 32;
  struct Pending {
    int64_t message, field_id;
    display::ImageInfo info;
  };
  Result<void> write(Statement& st, std::span<const Pending> rows);
  Statement one_, many_;
  std::vector<Pending> pending_;
};

}  // namespace sc::store
