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

enum class ImageStatus : uint8_t { Decoded, Failed, NotDecoded };
std::string_view image_status_name(ImageStatus s);  // decoded, failed, not_decoded

struct ImageRow {
  std::string_view field;   // display.draw_copy.data.src_bitmap (ImageInfo::field)
  uint32_t offset = 0;      // where the Image starts in the frame's body
  uint64_t image_id = 0;
  uint8_t type = 0, flags = 0;
  uint32_t width = 0, height = 0;
  uint64_t compressed = 0, decoded = 0;
  display::CacheOp cache = display::CacheOp::None;
  bool lossy = false;
  uint32_t glz_references = 0;
  ImageStatus status = ImageStatus::NotDecoded;
  std::optional<image::Fault> fault;  // its offset in the message body
};

// NotDecoded: a SURFACE image when surfaces are not drawn. The status column, and
// the status `images` shows.
ImageStatus image_status(const display::ImageInfo& info);

// One session's display channels (or one display channel no session claimed),
// frame by frame in capture order.
class ImageFeed final : public display::DisplayListener {
 public:
  // Offsets are in the frame's body (sub-messages' included).
  using ImageFn = std::function<void(ImageRow)>;
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
  // field_id: the names table id of row.field (the writer keeps that table).
  Result<void> insert(int64_t message, int64_t field_id, const ImageRow& row);
  Result<void> flush();

 private:
  static constexpr size_t kRowsPerInsert = 32;
  struct Pending {
    int64_t message, field_id;
    ImageRow row;
  };
  Result<void> write(Statement& st, std::span<const Pending> rows);
  Statement one_, many_;
  std::vector<Pending> pending_;
};

}  // namespace sc::store
