// office: a word processor. Mostly tiny updates (a word typed, the caret
// blinking, the status bar, a side panel cell) and a COPY_BITS scroll each time
// the page fills up: the traffic of someone writing a document.
#include <array>
#include <cstdio>

#include "qxl-sim/font.hpp"
#include "qxl-sim/scenario.hpp"

namespace sc::qxl {
namespace {

constexpr uint32_t kChrome = 0xdcdcdc;
constexpr uint32_t kPage = 0xffffff;
constexpr uint32_t kInk = 0x202020;
constexpr int32_t kToolbar = 40;
constexpr int32_t kStatus = 20;
constexpr int32_t kPanel = 160;

const std::array<const char*, 10> kWords = {"quarterly", "report", "shows", "latency", "on",
                                            "the",       "wan",    "link",  "is",      "fine"};

class Office final : public Scenario {
 public:
  using Scenario::Scenario;

  void frame(uint64_t n, std::vector<Op>& out) override {
    if (n == 0) {
      draw_chrome(out);
      return;
    }
    if (n % 8 == 0) caret(out, (n / 8) % 2 == 0);
    if (n % 2 == 1) type_word(out);
    if (n % 10 == 5) status(out);
    if (n % 15 == 7) panel_cell(out);
  }

 private:
  Rect page() const {
    return Rect{20, kToolbar + 10, int32_t(size_.width) - kPanel - 40,
                int32_t(size_.height) - kToolbar - kStatus - 20};
  }
  int32_t cols() const { return (page().w - 16) / kCellWidth; }
  int32_t rows() const { return (page().h - 8) / kCellHeight; }
  Point cell(int32_t line, int32_t col) const {
    return Point{page().x + 8 + col * kCellWidth, page().y + 4 + line * kCellHeight};
  }

  void draw_chrome(std::vector<Op>& out) {
    const int32_t w = int32_t(size_.width), h = int32_t(size_.height);
    out.push_back(FillOp{0, Rect{0, 0, w, h}, kChrome});
    out.push_back(FillOp{0, Rect{0, 0, w, kToolbar}, 0xf4f4f4});
    static const char* const buttons[] = {"File", "Edit", "View", "Insert", "Format"};
    for (int i = 0; i < 5; ++i) out.push_back(text(0, 8 + i * 64, 6, buttons[i], kInk, 0xf4f4f4));
    for (int i = 0; i < 12; ++i)
      out.push_back(FillOp{0, Rect{8 + i * 26, 22, 20, 14}, 0x808890 + uint32_t(i) * 0x0a0503});
    out.push_back(FillOp{0, page(), kPage});
    out.push_back(FillOp{0, Rect{w - kPanel - 10, kToolbar + 10, kPanel, h - kToolbar - kStatus - 20},
                         0xf8f8f0});
    status_text_ = "";
    status(out);
  }

  void type_word(std::vector<Op>& out) {
    std::string word = kWords[size_t(rng_.range(0, int32_t(kWords.size()) - 1))];
    word.push_back(' ');
    if (col_ + int32_t(word.size()) > cols()) {
      col_ = 0;
      if (++line_ >= rows()) {
        // Scroll the page up one line and blank the new last line.
        const Rect p = page();
        const Rect text_area{p.x, p.y + 4, p.w, rows() * kCellHeight};
        out.push_back(CopyBitsOp{0, Point{text_area.x, text_area.y + kCellHeight},
                                 Rect{text_area.x, text_area.y, text_area.w, text_area.h - kCellHeight}});
        out.push_back(FillOp{0, Rect{text_area.x, text_area.bottom() - kCellHeight, text_area.w,
                                     kCellHeight},
                             kPage});
        line_ = rows() - 1;
      }
    }
    const Point at = cell(line_, col_);
    out.push_back(text(0, at.x, at.y, word, kInk, kPage));
    col_ += int32_t(word.size());
    ++words_;
  }

  void caret(std::vector<Op>& out, bool on) {
    const Point at = cell(line_, col_);
    out.push_back(FillOp{0, Rect{at.x, at.y, 1, kCellHeight}, on ? kInk : kPage});
  }

  void status(std::vector<Op>& out) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "Ln %d, Col %d  words %d", line_ + 1, col_ + 1, words_);
    std::string s = buf;
    s.resize(std::max(s.size(), status_text_.size()), ' ');
    status_text_ = s;
    out.push_back(text(0, 8, int32_t(size_.height) - kStatus + 4, s, kInk, kChrome));
  }

  void panel_cell(std::vector<Op>& out) {
    const int32_t x0 = int32_t(size_.width) - kPanel - 4;
    const int32_t row = rng_.range(0, 9), colx = rng_.range(0, 1);
    const Rect c{x0 + colx * 74, kToolbar + 18 + row * 16, 70, 14};
    const uint32_t bg = rng_.chance(30) ? 0xfff0a0 : 0xf8f8f0;
    out.push_back(FillOp{0, c, bg});
    char buf[16];
    std::snprintf(buf, sizeof buf, "%6d", rng_.range(0, 99999));
    out.push_back(text(0, c.x + 4, c.y + 1, buf, kInk, bg));
  }

  int32_t line_ = 0, col_ = 0, words_ = 0;
  std::string status_text_;
};

}  // namespace

std::unique_ptr<Scenario> make_office(uint64_t seed, Size size) {
  return std::make_unique<Office>(seed, size);
}

}  // namespace sc::qxl
