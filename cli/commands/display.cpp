// The display commands: render (the screen at a moment, to PNG), images (every
// image the display channels carried, listed or exported decoded), streams (video
// streams, their frames exported). All run the stored messages through
// display::DisplayState again (store/display_replay.hpp).
#include <spice/enums.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <limits>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/filters.hpp"
#include "cli/output.hpp"
#include "store/display_replay.hpp"
#include "util/png.hpp"

namespace sc::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

std::optional<store::SessionChannels> find_session(store::Database& db, const SessionArgs& sel, bool quiet, int& code) {
  return chosen_session(store::find_display_session(db, sel.get()), sel, "display", quiet, code);
}

// Counts what went wrong during a replay, for the summary.
class ProblemTally : public display::DisplayListener {
 public:
  void on_image(uint32_t, uint64_t, const display::ImageInfo& i, const image::Pixels*) override {
    ++images;
    failed += i.fault.has_value();
  }
  void on_problem(uint32_t, uint64_t, const decode::Diagnostic& d) override { ++codes[d.code]; }
  uint64_t images = 0, failed = 0;
  std::map<std::string, uint64_t> codes;
  ordered_json json() const {
    ordered_json j = ordered_json::object();
    for (const auto& [c, n] : codes) j[c] = n;
    return j;
  }
};

// --- render ----------------------------------------------------------------

struct RenderArgs {
  SessionArgs sel;
  std::string out = "render.png";
  std::optional<double> at;
  std::optional<int64_t> after_message;
  std::optional<double> every;
  std::optional<uint32_t> surface;
  bool all_surfaces = false;
  bool quiet = false;
  std::string compare;
  std::optional<double> min_psnr;
};

struct Comparison {
  uint64_t pixels = 0, differing = 0;
  uint32_t max_delta = 0;
  double psnr = 0;  // infinity when equal
  display::Rect where{INT32_MAX, INT32_MAX, INT32_MIN, INT32_MIN};  // bounds of the differing pixels
  std::string error;
  ordered_json json() const {
    ordered_json j = {{"pixels", pixels}, {"differing", differing}, {"max_channel_delta", max_delta}};
    if (differing) {
      j["differing_area"] = {{"left", where.left}, {"top", where.top}, {"right", where.right}, {"bottom", where.bottom}};
    }
    j["psnr_db"] = std::isinf(psnr) ? ordered_json(nullptr) : ordered_json(psnr);
    if (!error.empty()) j["error"] = error;
    return j;
  }
};

// RGB only: xRGB surfaces and screenshots carry nothing in the fourth byte.
Comparison compare_with(const image::Pixels& px, const std::string& path) {
  Comparison c;
  auto pic = util::read_picture(path);
  if (!pic) {
    c.error = pic.error().message;
    return c;
  }
  if (pic->width != px.width || pic->height != px.height) {
    c.error = "sizes differ: rendered " + std::to_string(px.width) + "x" + std::to_string(px.height) + ", " + path +
              " is " + std::to_string(pic->width) + "x" + std::to_string(pic->height);
    return c;
  }
  double sq = 0;
  c.pixels = px.data.size();
  for (size_t i = 0; i < px.data.size(); ++i) {
    const uint32_t a = px.data[i], b = pic->argb[i];
    if (((a ^ b) & 0xffffffu) == 0) continue;
    ++c.differing;
    const auto x = static_cast<int32_t>(i % px.width), y = static_cast<int32_t>(i / px.width);
    c.where = {std::min(c.where.left, x), std::min(c.where.top, y), std::max(c.where.right, x + 1),
               std::max(c.where.bottom, y + 1)};
    for (unsigned sh = 0; sh < 24; sh += 8) {
      const int d = static_cast<int>((a >> sh) & 0xff) - static_cast<int>((b >> sh) & 0xff);
      c.max_delta = std::max<uint32_t>(c.max_delta, static_cast<uint32_t>(std::abs(d)));
      sq += double(d) * d;
    }
  }
  const double mse = sq / (3.0 * static_cast<double>(c.pixels));
  c.psnr = mse == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(255.0 * 255.0 / mse);
  return c;
}

struct Written {
  std::string file;
  double time = 0;
  int64_t message = 0;
  int64_t channel = 0;
  uint32_t surface = 0, width = 0, height = 0;
};

int run_render(const RenderArgs& a) {
  store::Database db = open_for_query(a.sel.f.db);
  int code = kExitOk;
  const auto session = find_session(db, a.sel, a.quiet || a.sel.f.json, code);
  if (!session) return code;
  if (a.every && !(*a.every > 0)) {
    std::cerr << "spice-capture: --every needs a positive number of seconds\n";
    return kExitUsage;
  }
  if (a.every) fs::create_directories(a.out);

  ProblemTally tally;
  display::DisplayState state({}, &tally);
  std::vector<Written> written;
  std::string write_error;
  StatusLine status(isatty(STDERR_FILENO) && !a.quiet && !a.sel.f.json);
  uint64_t applied = 0;
  int64_t last_message = 0;
  uint64_t last_ts = session->first_ts;

  auto snapshot = [&](const std::string& base, double t) {
    auto refs = state.surfaces();
    if (!a.all_surfaces) {
      std::optional<display::DisplayState::SurfaceRef> pick;
      for (const auto& r : refs) {
        if (a.surface ? r.surface_id == *a.surface : r.primary) {
          pick = r;
          break;
        }
      }
      refs.clear();
      if (pick) refs.push_back(*pick);
    }
    for (const auto& r : refs) {
      std::string file = base;
      if (a.all_surfaces) {
        const fs::path p(base);
        file = (p.parent_path() / (p.stem().string() + "-c" + std::to_string(r.connection) + "-s" +
                                   std::to_string(r.surface_id) + p.extension().string()))
                   .string();
      }
      const auto& px = r.surface->pixels();
      const bool alpha = r.surface->format() == SPICE_SURFACE_FMT_32_ARGB || r.surface->format() == SPICE_SURFACE_FMT_8_A;
      if (auto ok = util::write_png(file, px.width, px.height, px.data, alpha); !ok) {
        write_error = ok.error().message;
        return false;
      }
      written.push_back({file, t, last_message, r.connection, r.surface_id, px.width, px.height});
    }
    return true;
  };

  const uint64_t base = session->capture_first_ts;
  std::optional<uint64_t> until;
  if (a.at) until = base + static_cast<uint64_t>(std::llround(*a.at * 1e9));
  uint64_t next_frame = 0;
  size_t frame_no = 0;
  if (a.every) next_frame = session->first_ts;
  auto frame_name = [&](double t) {
    char name[64];
    std::snprintf(name, sizeof name, "frame-%05zu-%09.3fs.png", frame_no, t);
    return (fs::path(a.out) / name).string();
  };

  auto replayed = store::replay_display(db, *session, state, [&](const store::ReplayStep& s) {
    if (until && s.ts_ns > *until) return false;
    if (a.after_message && last_message == *a.after_message) return false;
    if (a.every) {
      while (s.ts_ns >= next_frame + static_cast<uint64_t>(*a.every * 1e9) && write_error.empty()) {
        next_frame += static_cast<uint64_t>(*a.every * 1e9);
        if (!snapshot(frame_name(seconds(next_frame, base)), seconds(next_frame, base))) return false;
        ++frame_no;
      }
    }
    ++applied;
    last_message = s.message;
    last_ts = s.ts_ns;
    if (status.enabled() && applied % 2000 == 0) {
      status.show("render: " + std::to_string(applied) + " messages, t=" + std::to_string(seconds(s.ts_ns, base)) + " s");
    }
    return true;
  });
  status.clear();
  if (!replayed) {
    std::cerr << "spice-capture: " << replayed.error().message << '\n';
    return kExitDatabase;
  }
  if (a.after_message && last_message != *a.after_message) {
    std::cerr << "spice-capture: message " << *a.after_message << " is not a display message of session "
              << session->session_id << '\n';
    return kExitUsage;
  }
  if (write_error.empty()) {
    if (a.every) {
      snapshot(frame_name(seconds(last_ts, base)), seconds(last_ts, base));
    } else {
      snapshot(a.out, seconds(until ? *until : last_ts, base));
    }
  }
  if (!write_error.empty()) {
    std::cerr << "spice-capture: " << write_error << '\n';
    return kExitInputMissing;
  }
  if (written.empty()) {
    std::cerr << "spice-capture: session " << session->session_id << " has no "
              << (a.surface ? "surface " + std::to_string(*a.surface) : std::string("primary surface"))
              << " at that point (" << applied << " display messages applied)\n";
    return kExitIncomplete;
  }
  std::optional<Comparison> cmp;
  if (!a.compare.empty()) {
    const auto refs = state.surfaces();
    for (const auto& r : refs) {
      if (r.connection == written.back().channel && r.surface_id == written.back().surface) {
        cmp = compare_with(r.surface->pixels(), a.compare);
      }
    }
  }
  const bool differs = cmp && (!cmp->error.empty() || (a.min_psnr ? cmp->psnr < *a.min_psnr : cmp->differing > 0));
  const auto& c = state.counters();
  if (a.sel.f.json) {
    ordered_json j = {{"session", session->session_id}, {"messages", applied}, {"draws", c.draws},
                      {"images", tally.images}, {"image_failures", tally.failed}, {"stream_frames", c.stream_frames},
                      {"problems", tally.json()}, {"files", ordered_json::array()}};
    for (const auto& w : written) {
      j["files"].push_back({{"file", w.file}, {"time", w.time}, {"after_message", w.message}, {"channel", w.channel},
                            {"surface", w.surface}, {"width", w.width}, {"height", w.height}});
    }
    if (cmp) {
      j["compare"] = cmp->json();
      j["compare"]["file"] = a.compare;
      j["compare"]["equal_enough"] = !differs;
    }
    std::cout << j.dump(2) << '\n';
  } else if (!a.quiet) {
    if (written.size() == 1) {
      const auto& w = written.front();
      std::cout << w.file << ": surface " << w.surface << " of channel " << w.channel << ", " << w.width << "x"
                << w.height << ", session " << session->session_id << " at " << w.time << " s (after message "
                << w.message << ")\n";
    } else {
      std::cout << written.size() << " PNG files in " << (a.every ? a.out : fs::path(a.out).parent_path().string())
                << '\n';
    }
    std::cout << applied << " display messages, " << c.draws << " draws, " << tally.images << " images ("
              << tally.failed << " not decoded), " << c.stream_frames << " stream frames\n";
    for (const auto& [code_name, n] : tally.codes) std::cout << "  " << code_name << ": " << n << '\n';
    if (cmp && !cmp->error.empty()) {
      std::cout << "compare: " << cmp->error << '\n';
    } else if (cmp) {
      std::cout << "compare with " << a.compare << ": " << cmp->differing << " of " << cmp->pixels
                << " pixels differ";
      if (cmp->differing) {
        std::cout << " in " << cmp->where.width() << "x" << cmp->where.height() << "+" << cmp->where.left << "+"
                  << cmp->where.top;
      }
      std::cout << " (largest channel difference " << cmp->max_delta << ", PSNR "
                << (std::isinf(cmp->psnr) ? std::string("inf") : std::to_string(cmp->psnr)) << " dB)"
                << (differs ? ": DIFFERENT" : ": same") << '\n';
    }
  }
  if (differs) return kExitDiffers;
  return tally.failed ? kExitIncomplete : kExitOk;
}

}  // namespace

void register_render(CLI::App& app) {
  auto a = std::make_shared<RenderArgs>();
  auto* cmd = app.add_subcommand("render", "The screen of a session at a moment, as PNG");
  a->sel.add(cmd, "display");
  cmd->add_option("-o,--out", a->out, "PNG file to write (with --every: a directory)")->capture_default_str();
  auto* at = cmd->add_option("--at", a->at, "Seconds from the capture's start (the `time` column of other commands)");
  auto* after = cmd->add_option("--after-message", a->after_message, "Right after this message (messages.id)");
  cmd->add_option("--every", a->every, "A PNG every this many seconds of the session, into the --out directory")
      ->excludes(at)
      ->excludes(after);
  at->excludes(after);
  cmd->add_option("--surface", a->surface, "This surface id instead of the primary surface");
  cmd->add_flag("--all-surfaces", a->all_surfaces, "Every live surface, one file each (-cCHANNEL-sSURFACE added)");
  cmd->add_flag("-q,--quiet", a->quiet, "No summary");
  auto* cmp = cmd->add_option("--compare", a->compare,
                              "Compare the render with this picture (PNG, or PPM as spicy-screenshot writes): "
                              "exit 10 when any pixel differs");
  cmd->add_option("--min-psnr", a->min_psnr, "With --compare: pass when the PSNR (dB) is at least this (lossy paths)")
      ->needs(cmp);
  cmd->footer(
      "Runs the session's display messages again through the same decoders and\n"
      "canvas a client uses (every image codec, caches, GLZ dictionary, MJPEG\n"
      "streams) and writes what the screen showed. Without --at or --after-message:\n"
      "the end of the session. Exit 8 when some image could not be decoded (the\n"
      "render is still written; `images --failed` lists them).\n\n"
      "Examples:\n"
      "  spice-capture render --db s.db -o end.png\n"
      "  spice-capture render --db s.db --session 1234 --at 2.5 -o t2.5.png\n"
      "  spice-capture render --db s.db --every 1 -o frames/\n"
      "  spice-capture render --db s.db -o end.png --compare shot.ppm");
  cmd->callback([a] { throw CLI::RuntimeError(run_render(*a)); });
}

}  // namespace sc::cli

namespace sc::cli {
namespace {

// --- images ----------------------------------------------------------------

struct ImagesArgs {
  SessionArgs sel;
  std::string type;
  bool failed = false;
  std::string export_dir;
  int64_t limit = 50;
};

std::string short_field(std::string_view path) {
  // display.draw_copy.data.src_bitmap -> draw_copy.src_bitmap
  std::string s(path.starts_with("display.") ? path.substr(8) : path);
  if (const auto at = s.find(".data."); at != std::string::npos) s.erase(at, 5);
  return s;
}

class ImageLister : public display::DisplayListener {
 public:
  ImageLister(const ImagesArgs& a, uint64_t base) : a_(a), base_(base) {}
  int64_t message = 0;
  uint64_t seen = 0, listed = 0, exported = 0;
  std::string error;
  store::Table table{{"message", "time", "channel", "field", "image_id", "type", "width", "height", "bytes",
                      "decoded_bytes", "cache", "lossy", "glz_references", "status", "problem"},
                     {}};

  void on_image(uint32_t conn, uint64_t ts, const display::ImageInfo& i, const image::Pixels* px) override {
    ++seen;
    if (!a_.type.empty() && display::image_type_name(i.type) != a_.type) return;
    if (a_.failed && !i.fault) return;
    if (!a_.export_dir.empty() && px && error.empty()) {
      const std::string file = a_.export_dir + "/m" + std::to_string(message) + "-" + display::image_type_name(i.type) +
                               "-" + std::to_string(i.id) + ".png";
      if (auto ok = util::write_png(file, px->width, px->height, px->data, px->has_alpha); !ok) {
        error = ok.error().message;
      } else {
        ++exported;
      }
    }
    if (static_cast<int64_t>(listed) < a_.limit) {
      using store::Cell;
      table.rows.push_back({Cell{message}, Cell{seconds(ts, base_)}, Cell{int64_t{conn}}, Cell{short_field(i.field)},
                            Cell{static_cast<int64_t>(i.id)}, Cell{display::image_type_name(i.type)},
                            Cell{int64_t{i.width}}, Cell{int64_t{i.height}}, Cell{static_cast<int64_t>(i.payload_bytes)},
                            Cell{static_cast<int64_t>(i.decoded_bytes)},
                            Cell{std::string(display::cache_op_name(i.cache))}, Cell{int64_t{i.lossy}},
                            Cell{int64_t{i.references}},
                            Cell{std::string(display::image_status_name(display::image_status(i)))},
                            i.fault ? Cell{i.fault->code + ": " + i.fault->text} : Cell{}});
    }
    ++listed;
  }

 private:
  const ImagesArgs& a_;
  uint64_t base_;
};

int run_images(const ImagesArgs& a) {
  store::Database db = open_for_query(a.sel.f.db);
  int code = kExitOk;
  const auto session = find_session(db, a.sel, a.sel.f.json, code);
  if (!session) return code;
  if (!a.export_dir.empty()) fs::create_directories(a.export_dir);
  ImageLister lister(a, session->capture_first_ts);
  display::DisplayState state({}, &lister);
  auto replayed = store::replay_display(db, *session, state, [&](const store::ReplayStep& s) {
    lister.message = s.message;
    return lister.error.empty();
  });
  if (!replayed) {
    std::cerr << "spice-capture: " << replayed.error().message << '\n';
    return kExitDatabase;
  }
  if (!lister.error.empty()) {
    std::cerr << "spice-capture: " << lister.error << '\n';
    return kExitInputMissing;
  }
  if (a.sel.f.json) {
    std::cout << table_to_json(lister.table).dump(2) << '\n';
  } else {
    print_table(std::cout, lister.table);
    if (lister.listed > lister.table.rows.size()) {
      std::cout << "(" << lister.listed - lister.table.rows.size() << " more; --limit)\n";
    }
  }
  if (!a.export_dir.empty() && !a.sel.f.json) {
    std::cerr << lister.exported << " images written to " << a.export_dir << '\n';
  }
  return kExitOk;
}

// --- streams ---------------------------------------------------------------

struct StreamsArgs {
  SessionArgs sel;
  std::string export_dir;
};

std::string codec_name(uint8_t c) {
  switch (c) {
    case SPICE_VIDEO_CODEC_TYPE_MJPEG: return "mjpeg";
    case SPICE_VIDEO_CODEC_TYPE_VP8: return "vp8";
    case SPICE_VIDEO_CODEC_TYPE_H264: return "h264";
    case SPICE_VIDEO_CODEC_TYPE_VP9: return "vp9";
    case SPICE_VIDEO_CODEC_TYPE_H265: return "h265";
    default: return "codec_" + std::to_string(c);
  }
}

void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}

class StreamCollector : public display::DisplayListener {
 public:
  StreamCollector(const StreamsArgs& a, uint64_t base) : a_(a), base_(base) {}
  struct Info {
    uint32_t conn = 0, id = 0;
    uint8_t codec = 0;
    uint32_t width = 0, height = 0;
    display::Rect dest;
    uint64_t frames = 0, bytes = 0, first_ts = 0, last_ts = 0, decoded = 0;
    std::string file;   // raw export (non-MJPEG)
    std::string data;   // raw frames to write
    uint32_t instance = 0;  // stream ids are reused: each create is a new stream
  };
  std::vector<Info> streams;
  std::map<std::pair<uint32_t, uint32_t>, size_t> live;
  std::string error;

  void on_stream_frame(const display::StreamFrame& f) override {
    const auto key = std::make_pair(f.connection, f.stream_id);
    auto it = live.find(key);
    if (it == live.end() || streams[it->second].codec != f.codec || streams[it->second].width != f.width ||
        streams[it->second].height != f.height) {
      Info i{.conn = f.connection, .id = f.stream_id, .codec = f.codec, .width = f.width, .height = f.height,
             .dest = f.dest, .first_ts = f.ts_ns};
      i.instance = static_cast<uint32_t>(streams.size());
      streams.push_back(std::move(i));
      it = live.insert_or_assign(key, streams.size() - 1).first;
    }
    Info& s = streams[it->second];
    ++s.frames;
    s.bytes += f.data.size();
    s.last_ts = f.ts_ns;
    s.decoded += f.decoded;
    if (a_.export_dir.empty() || !error.empty()) return;
    const std::string stem = a_.export_dir + "/stream-" + std::to_string(s.instance) + "-c" + std::to_string(s.conn) +
                             "-id" + std::to_string(s.id);
    if (s.codec == SPICE_VIDEO_CODEC_TYPE_MJPEG) {
      // The JPEG as sent: every image viewer opens it.
      char name[32];
      std::snprintf(name, sizeof name, "-frame-%06llu.jpg", static_cast<unsigned long long>(s.frames));
      std::ofstream out(stem + name, std::ios::binary);
      out.write(reinterpret_cast<const char*>(f.data.data()), static_cast<std::streamsize>(f.data.size()));
      if (!out) error = "cannot write " + stem + name;
      return;
    }
    const bool ivf = s.codec == SPICE_VIDEO_CODEC_TYPE_VP8 || s.codec == SPICE_VIDEO_CODEC_TYPE_VP9;
    if (s.file.empty()) {
      s.file = stem + (ivf ? ".ivf" : "." + codec_name(s.codec));
      if (ivf) {
        // IVF: the container libvpx's tools and ffmpeg read for raw VP8/VP9 frames.
        s.data = "DKIF";
        put_le(s.data, 0, 2);
        put_le(s.data, 32, 2);
        s.data += s.codec == SPICE_VIDEO_CODEC_TYPE_VP8 ? "VP80" : "VP90";
        put_le(s.data, s.width, 2);
        put_le(s.data, s.height, 2);
        put_le(s.data, 1000, 4);  // time base: milliseconds of the multimedia clock
        put_le(s.data, 1, 4);
        put_le(s.data, 0, 4);     // frame count, patched on write
        put_le(s.data, 0, 4);
      }
    }
    if (ivf) {
      put_le(s.data, f.data.size(), 4);
      put_le(s.data, f.mm_time, 8);
      ++ivf_frames_[s.instance];
    }
    s.data.append(reinterpret_cast<const char*>(f.data.data()), f.data.size());
  }

  void write_raw() {
    for (auto& s : streams) {
      if (s.file.empty()) continue;
      if (s.data.size() >= 32 && s.data.starts_with("DKIF")) {
        const uint32_t n = ivf_frames_[s.instance];
        for (int i = 0; i < 4; ++i) s.data[24 + i] = static_cast<char>(n >> (8 * i));
      }
      std::ofstream out(s.file, std::ios::binary);
      out.write(s.data.data(), static_cast<std::streamsize>(s.data.size()));
      if (!out) error = "cannot write " + s.file;
    }
  }

 private:
  const StreamsArgs& a_;
  uint64_t base_;
  std::map<uint32_t, uint32_t> ivf_frames_;

 public:
  uint64_t base() const { return base_; }
};

int run_streams(const StreamsArgs& a) {
  store::Database db = open_for_query(a.sel.f.db);
  int code = kExitOk;
  const auto session = find_session(db, a.sel, a.sel.f.json, code);
  if (!session) return code;
  if (!a.export_dir.empty()) fs::create_directories(a.export_dir);
  StreamCollector c(a, session->capture_first_ts);
  display::DisplayState state({}, &c);
  auto replayed = store::replay_display(db, *session, state);
  if (!replayed) {
    std::cerr << "spice-capture: " << replayed.error().message << '\n';
    return kExitDatabase;
  }
  c.write_raw();
  if (!c.error.empty()) {
    std::cerr << "spice-capture: " << c.error << '\n';
    return kExitInputMissing;
  }
  using store::Cell;
  store::Table t{{"stream", "channel", "id", "codec", "width", "height", "dest", "frames", "bytes", "first", "last",
                  "fps", "decoded", "file"},
                 {}};
  for (const auto& s : c.streams) {
    const double span = s.last_ts > s.first_ts ? static_cast<double>(s.last_ts - s.first_ts) / 1e9 : 0;
    t.rows.push_back({Cell{int64_t{s.instance}}, Cell{int64_t{s.conn}}, Cell{int64_t{s.id}}, Cell{codec_name(s.codec)},
                      Cell{int64_t{s.width}}, Cell{int64_t{s.height}},
                      Cell{std::to_string(s.dest.width()) + "x" + std::to_string(s.dest.height()) + "+" +
                           std::to_string(s.dest.left) + "+" + std::to_string(s.dest.top)},
                      Cell{static_cast<int64_t>(s.frames)}, Cell{static_cast<int64_t>(s.bytes)},
                      Cell{seconds(s.first_ts, c.base())}, Cell{seconds(s.last_ts, c.base())},
                      span > 0 ? Cell{static_cast<double>(s.frames - 1) / span} : Cell{},
                      Cell{static_cast<int64_t>(s.decoded)}, s.file.empty() ? Cell{} : Cell{s.file}});
  }
  if (a.sel.f.json) {
    std::cout << table_to_json(t).dump(2) << '\n';
  } else if (t.rows.empty()) {
    std::cout << "no video stream in session " << session->session_id << '\n';
  } else {
    print_table(std::cout, t);
  }
  return kExitOk;
}

}  // namespace

void register_images(CLI::App& app) {
  auto a = std::make_shared<ImagesArgs>();
  auto* cmd = app.add_subcommand("images", "Every image the display channels carried: codec, sizes, caches, decoding");
  a->sel.add(cmd, "display");
  cmd->add_option("--image-type", a->type, "Only this type: bitmap, quic, lz_rgb, glz_rgb, lz_plt, zlib_glz_rgb, lz4, "
                                           "jpeg, jpeg_alpha, from_cache, from_cache_lossless, surface");
  cmd->add_flag("--failed", a->failed, "Only images that could not be had (bad payloads, cache misses)");
  cmd->add_option("--export", a->export_dir, "Write every (selected) decoded image as PNG into this directory");
  cmd->add_option("-l,--limit", a->limit, "List at most this many (default 50; --export writes all)");
  cmd->footer(
      "Decodes the session's images again, in order, with the client's caches and GLZ\n"
      "dictionary. `bytes` is the payload on the wire, `decoded_bytes` the pixels (4 per\n"
      "pixel); `cache` is what the image did to the pixmap cache (store, replace, hit,\n"
      "miss); `status` is decoded or the problem code.\n\n"
      "Examples:\n"
      "  spice-capture images --db s.db --image-type glz_rgb\n"
      "  spice-capture images --db s.db --failed --json\n"
      "  spice-capture images --db s.db --export imgs/");
  cmd->callback([a] { throw CLI::RuntimeError(run_images(*a)); });
}

void register_streams(CLI::App& app) {
  auto a = std::make_shared<StreamsArgs>();
  auto* cmd = app.add_subcommand("streams", "Video streams of a session: codec, size, frames; export their frames");
  a->sel.add(cmd, "display");
  cmd->add_option("--export", a->export_dir,
                  "Write frames into this directory: MJPEG frames as .jpg files, VP8/VP9 as .ivf, H.264/H.265 as "
                  "raw Annex B streams");
  cmd->footer(
      "MJPEG frames are also drawn by `render`; frames of other codecs are exported\n"
      "for a video tool (ffmpeg -i stream-0-c3-id1.h264 ...).\n\n"
      "Examples:\n"
      "  spice-capture streams --db s.db\n"
      "  spice-capture streams --db s.db --export video/");
  cmd->callback([a] { throw CLI::RuntimeError(run_streams(*a)); });
}

}  // namespace sc::cli
