// desktop: a small window manager session. Three windows over a wallpaper and a
// taskbar; each frame continues one "action" (drag, typing, menu, fills, focus).
// Drags move the focused window with COPY_BITS and repaint the exposed strip;
// menus are drawn on an offscreen surface and copied to the primary.
#include <algorithm>
#include <array>
#include <cstdio>

#include "qxl-sim/font.hpp"
#include "qxl-sim/imagery.hpp"
#include "qxl-sim/scenario.hpp"

namespace sc::qxl {
namespace {

constexpr uint32_t kWallpaper = 0x2e5a88;
constexpr uint32_t kTaskbar = 0x202830;
constexpr uint32_t kTitleFocused = 0x3050a0;
constexpr uint32_t kTitleIdle = 0x707880;
constexpr uint32_t kWindowBody = 0xfafafa;
constexpr uint32_t kInk = 0x101010;
constexpr int32_t kTitleHeight = 18;
constexpr int32_t kTaskbarHeight = 28;
constexpr uint32_t kMenuSurface = 1;

const std::array<const char*, 12> kWords = {"the",    "spice", "server", "sends",  "draw",  "copy",
                                            "bits",   "glyph", "stream", "cursor", "agent", "frame"};

struct Window {
  Rect frame;
  std::string title;
  int32_t line = 0;    // typing caret, in text cells
  int32_t column = 0;
};

class Desktop final : public Scenario {
 public:
  Desktop(uint64_t seed, Size size) : Scenario(seed, size) {
    const int32_t w = int32_t(size.width), h = int32_t(size.height);
    windows_ = {Window{{w / 10, h / 10, w / 2, h / 2}, "Terminal"},
                Window{{w / 3, h / 4, w / 2, h / 2}, "Editor"},
                Window{{w / 5, h / 3, w / 3, h / 3}, "Notes"}};
    for (uint32_t i = 0; i < 4; ++i) icons_.push_back(icon_image(40, i, new_image_id()));
    for (uint32_t i = 0; i < 2; ++i) tray_.push_back(icon_image(20, 10 + i, new_image_id()));
  }

  void frame(uint64_t n, std::vector<Op>& out) override {
    if (n == 0) {
      draw_desktop(out);
      return;
    }
    if (n % 25 == 0) draw_clock(n, out);
    if (n % 5 == 0) draw_tray(n, out);
    if (remaining_ == 0) pick_action();
    --remaining_;
    switch (action_) {
      case Action::kDrag: drag_step(out); break;
      case Action::kType: type_step(out); break;
      case Action::kMenu: menu_step(out); break;
      case Action::kFill: fill_step(out); break;
      case Action::kFocus: focus_step(out); break;
    }
  }

 private:
  enum class Action { kDrag, kType, kMenu, kFill, kFocus };

  Rect screen() const {
    return Rect{0, 0, int32_t(size_.width), int32_t(size_.height) - kTaskbarHeight};
  }
  Window& focused() { return windows_.back(); }
  Rect body(const Window& w) const {
    return Rect{w.frame.x + 2, w.frame.y + kTitleHeight, w.frame.w - 4, w.frame.h - kTitleHeight - 2};
  }

  void pick_action() {
    const int32_t r = rng_.range(0, 99);
    if (r < 25) {
      action_ = Action::kDrag, remaining_ = rng_.range(6, 16);
      drag_dx_ = rng_.range(-6, 6), drag_dy_ = rng_.range(-5, 5);
      if (drag_dx_ == 0 && drag_dy_ == 0) drag_dx_ = 4;
    } else if (r < 60) {
      action_ = Action::kType, remaining_ = rng_.range(10, 30);
    } else if (r < 75) {
      action_ = Action::kMenu, remaining_ = 8, menu_step_ = 0;
    } else if (r < 90) {
      action_ = Action::kFill, remaining_ = rng_.range(2, 5);
    } else {
      action_ = Action::kFocus, remaining_ = 1;
    }
  }

  void draw_desktop(std::vector<Op>& out) {
    out.push_back(FillOp{0, screen(), kWallpaper});
    out.push_back(FillOp{0, Rect{0, int32_t(size_.height) - kTaskbarHeight, int32_t(size_.width),
                                 kTaskbarHeight},
                         kTaskbar});
    out.push_back(text(0, 8, int32_t(size_.height) - 20, "Start", 0xffffff, kTaskbar));
    for (size_t i = 0; i < icons_.size(); ++i) {
      const int32_t y = 16 + int32_t(i) * 72;
      out.push_back(BlitOp{0, Rect{16, y, 40, 40}, icons_[i]});
      out.push_back(text(0, 12, y + 44, "icon" + std::to_string(i), 0xffffff, kWallpaper));
    }
    for (size_t i = 0; i < windows_.size(); ++i) draw_window(windows_[i], i + 1 == windows_.size(), out);
  }

  // A blinking tray indicator: the same two cacheable images again and again, so
  // the server sends them once and then from the client's pixmap cache.
  void draw_tray(uint64_t n, std::vector<Op>& out) {
    const int32_t y = int32_t(size_.height) - kTaskbarHeight + (kTaskbarHeight - 20) / 2;
    out.push_back(BlitOp{0, Rect{int32_t(size_.width) - 84, y, 20, 20}, tray_[n / 5 % tray_.size()]});
  }

  void draw_clock(uint64_t n, std::vector<Op>& out) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02u:%02u", unsigned(n / 1500 % 24), unsigned(n / 25 % 60));
    out.push_back(text(0, int32_t(size_.width) - 56, int32_t(size_.height) - 20, buf, 0xffffff,
                       kTaskbar));
  }

  void draw_window(const Window& w, bool focus, std::vector<Op>& out) {
    out.push_back(FillOp{0, w.frame, 0x404040});
    out.push_back(FillOp{0, Rect{w.frame.x + 1, w.frame.y + 1, w.frame.w - 2, kTitleHeight - 2},
                         focus ? kTitleFocused : kTitleIdle});
    const int32_t max_chars = std::max(0, (w.frame.w - 40) / kCellWidth);
    out.push_back(text(0, w.frame.x + 6, w.frame.y + 3, w.title.substr(0, size_t(max_chars)),
                       0xffffff, focus ? kTitleFocused : kTitleIdle));
    out.push_back(FillOp{0, body(w), kWindowBody});
    // Re-type what the window "contains" so redraws carry text too.
    const Rect b = body(w);
    for (int32_t l = 0; l < w.line && (l + 1) * kCellHeight < b.h; ++l) {
      const int32_t cols = std::max(1, b.w / kCellWidth - 1);
      std::string s;
      for (int32_t c = 0; c < cols; ++c) s.push_back(char('a' + (l * 7 + c) % 26));
      out.push_back(text(0, b.x + 2, b.y + 2 + l * kCellHeight, s, kInk, kWindowBody));
    }
  }

  // Moves the focused window one step with COPY_BITS, repainting what it uncovered.
  void drag_step(std::vector<Op>& out) {
    Window& w = focused();
    const Rect area = screen();
    Rect moved = w.frame;
    moved.x = std::clamp(moved.x + drag_dx_, 0, area.w - moved.w);
    moved.y = std::clamp(moved.y + drag_dy_, 0, area.h - moved.h);
    if (moved == w.frame) {
      remaining_ = 0;
      return;
    }
    out.push_back(CopyBitsOp{0, Point{w.frame.x, w.frame.y}, moved});
    // Exposed strips: horizontal band and vertical band of the old frame.
    const Rect old = w.frame;
    if (moved.y > old.y) out.push_back(FillOp{0, Rect{old.x, old.y, old.w, moved.y - old.y}, kWallpaper});
    if (moved.y < old.y)
      out.push_back(FillOp{0, Rect{old.x, moved.bottom(), old.w, old.bottom() - moved.bottom()}, kWallpaper});
    if (moved.x > old.x) out.push_back(FillOp{0, Rect{old.x, old.y, moved.x - old.x, old.h}, kWallpaper});
    if (moved.x < old.x)
      out.push_back(FillOp{0, Rect{moved.right(), old.y, old.right() - moved.right(), old.h}, kWallpaper});
    w.frame = moved;
  }

  void type_step(std::vector<Op>& out) {
    Window& w = focused();
    const Rect b = body(w);
    const int32_t cols = std::max(1, b.w / kCellWidth - 1);
    const int32_t rows = std::max(1, (b.h - 4) / kCellHeight);
    std::string word = kWords[size_t(rng_.range(0, int32_t(kWords.size()) - 1))];
    word.push_back(' ');
    if (w.column + int32_t(word.size()) > cols) {
      w.column = 0;
      if (++w.line >= rows) {
        w.line = 0;
        out.push_back(FillOp{0, b, kWindowBody});
      }
    }
    out.push_back(text(0, b.x + 2 + w.column * kCellWidth, b.y + 2 + w.line * kCellHeight,
                       word.substr(0, size_t(cols)), kInk, kWindowBody));
    w.column += int32_t(word.size());
  }

  // A menu: drawn once on an offscreen surface, copied to the primary while an
  // item highlight moves, then closed by repainting the window.
  void menu_step(std::vector<Op>& out) {
    Window& w = focused();
    const Rect b = body(w);
    const int32_t mw = std::min(120, b.w), mh = std::min(5 * kCellHeight + 8, b.h);
    const Point at{b.x, b.y};
    if (menu_step_ == 0) {
      out.push_back(SurfaceCreateOp{kMenuSurface, Size{uint32_t(mw), uint32_t(mh)}});
      out.push_back(FillOp{kMenuSurface, Rect{0, 0, mw, mh}, 0xe8e8e8});
      static const char* const items[] = {"Open", "Save", "Copy", "Paste", "Quit"};
      for (int i = 0; i < 5; ++i)
        out.push_back(text(kMenuSurface, 6, 4 + i * kCellHeight, items[i], kInk, 0xe8e8e8));
    }
    if (menu_step_ < 7) {
      out.push_back(SurfaceCopyOp{kMenuSurface, Rect{0, 0, mw, mh}, 0, at});
      // Highlight bar on the primary (a solid fill over the copied menu).
      const int32_t item = menu_step_ % 5;
      out.push_back(FillOp{0, Rect{at.x + 2, at.y + 4 + item * kCellHeight, mw - 4, 2}, 0x3060c0});
    } else {
      out.push_back(SurfaceDestroyOp{kMenuSurface});
      draw_window(w, true, out);
    }
    ++menu_step_;
  }

  void fill_step(std::vector<Op>& out) {
    const Rect b = body(focused());
    if (b.w < 8 || b.h < 8) return;
    const int32_t w = rng_.range(4, std::max(4, b.w / 3)), h = rng_.range(4, std::max(4, b.h / 3));
    out.push_back(FillOp{0, Rect{b.x + rng_.range(0, b.w - w), b.y + rng_.range(0, b.h - h), w, h},
                         rng_.color()});
  }

  void focus_step(std::vector<Op>& out) {
    // Raise the bottom window: unfocus the old one's title, then redraw the new one on top.
    std::rotate(windows_.begin(), windows_.begin() + 1, windows_.end());
    draw_window(windows_[windows_.size() - 2], false, out);
    draw_window(focused(), true, out);
  }

  std::vector<Window> windows_;
  std::vector<ImagePtr> icons_, tray_;
  Action action_ = Action::kType;
  int32_t remaining_ = 0;
  int32_t drag_dx_ = 0, drag_dy_ = 0;
  int32_t menu_step_ = 0;
};

}  // namespace

std::unique_ptr<Scenario> make_desktop(uint64_t seed, Size size) {
  return std::make_unique<Desktop>(seed, size);
}

}  // namespace sc::qxl
