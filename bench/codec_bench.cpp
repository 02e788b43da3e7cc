// Image decode throughput per codec on the images of real sessions, against the
// same machine's memcpy bandwidth measured in the same run.
//
//   codec_bench --db S.db [--db T.db ...] [--passes N] [--json]
//
// Every image of each store's display channels is decoded in capture order
// (caches and GLZ dictionary as the client keeps them), once to warm up and then
// --passes times with fresh caches; the figure is decoded output (4 bytes a
// pixel) per second of decoding, per codec. bench/codec_bench.sh makes the
// sessions and runs it.
#include <spice/enums.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "dissect/display/image_source.hpp"
#include "store/database.hpp"
#include "store/display_replay.hpp"
#include "store/message_loader.hpp"

namespace {

using namespace sc;  // NOLINT
using Clock = std::chrono::steady_clock;

struct Sample {
  std::vector<uint8_t> body;
  decode::DecodedMessage message;
  std::vector<uint32_t> images;  // value indexes of Image pointers
};

struct Totals {
  uint64_t images = 0, out_bytes = 0, in_bytes = 0, failures = 0;
  double seconds = 0;
};

bool is_image_pointer(const decode::DecodedMessage& m, uint32_t i) {
  const auto& n = schema::Registry::spice().node(m.values[i].node);
  return n.type->kind == schema::Kind::Pointer && n.type->target && n.type->target->name == "Image" &&
         m.values[i].number != 0 && m.values[i].end > i + 1;
}

double memcpy_gbps() {
  std::vector<uint8_t> a(256u << 20, 1), b(256u << 20);
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    std::memcpy(b.data(), a.data(), a.size());
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, static_cast<double>(a.size()) / s / 1e9);
  }
  if (b[12345] != 1) std::abort();
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Image decode throughput per codec, against memcpy"};
  std::vector<std::string> dbs;
  int passes = 5;
  bool json = false;
  app.add_option("--db", dbs, "Stores with display sessions")->required();
  app.add_option("--passes", passes, "Timed passes");
  app.add_flag("--json", json, "JSON output");
  CLI11_PARSE(app, argc, argv);

  // Copies of every display message holding an image, decoded once.
  std::vector<Sample> samples;
  for (const auto& path : dbs) {
    auto db = store::Database::open(path, store::Database::Mode::ReadOnly);
    if (!db) {
      std::cerr << "codec_bench: " << db.error().message << '\n';
      return 1;
    }
    auto rows = db->query("SELECT m.id FROM message_rows m JOIN channels c ON c.id = m.channel WHERE c.type = " +
                          std::to_string(SPICE_CHANNEL_DISPLAY) + " AND m.dir = 1 ORDER BY c.capture_id, m.ts_ns, m.id");
    if (!rows) return 1;
    store::MessageLoader loader(db->handle());
    store::LoadedMessage lm;
    std::string error;
    for (const auto& r : rows->rows) {
      if (!loader.load(std::get<int64_t>(r[0]), lm, error)) continue;
      Sample s;
      s.body.assign(lm.frame.own_body.begin(), lm.frame.own_body.end());
      s.message = lm.frame.own;
      for (uint32_t i = 0; i < s.message.values.size(); ++i) {
        if (is_image_pointer(s.message, i)) s.images.push_back(i);
      }
      if (!s.images.empty()) samples.push_back(std::move(s));
    }
    loader.release();
  }

  std::map<std::string, Totals> by_codec;
  for (int pass = 0; pass <= passes; ++pass) {
    display::PixmapCache pixmaps;
    display::PaletteCache palettes;
    image::GlzDictionary glz;
    display::ImageContext ctx{pixmaps, palettes, glz, {}, {}};
    for (const auto& s : samples) {
      for (uint32_t i : s.images) {
        const decode::FieldView v(s.message, s.body, i);
        const auto t0 = Clock::now();
        const auto r = display::resolve_image(v, ctx);
        const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        // Warm-up; SURFACE images are references to live surfaces, which the bench has none of.
        if (pass == 0 || r.info.type == SPICE_IMAGE_TYPE_SURFACE) continue;
        auto& t = by_codec[display::image_type_name(r.info.type)];
        ++t.images;
        t.seconds += dt;
        t.in_bytes += r.info.payload_bytes;
        t.out_bytes += r.info.decoded ? r.info.decoded_bytes : 0;
        t.failures += r.info.fault.has_value();
      }
    }
  }
  const double mc = memcpy_gbps();
  nlohmann::ordered_json out = {{"memcpy_gb_per_s", mc}, {"passes", passes}, {"codecs", nlohmann::ordered_json::array()}};
  if (!json) std::printf("memcpy: %.2f GB/s (256 MiB, best of 5)\n%-20s %8s %12s %12s %10s %8s %9s\n", mc, "codec",
                         "images", "in MB", "out MB", "out MB/s", "x memcpy", "failures");
  for (const auto& [name, t] : by_codec) {
    const double rate = t.seconds > 0 ? static_cast<double>(t.out_bytes) / t.seconds / 1e6 : 0;
    out["codecs"].push_back({{"codec", name}, {"images", t.images / passes}, {"in_bytes", t.in_bytes / passes},
                             {"out_bytes", t.out_bytes / passes}, {"out_mb_per_s", rate},
                             {"ratio_to_memcpy", rate / (mc * 1e3)}, {"failures", t.failures / passes}});
    if (!json) {
      std::printf("%-20s %8llu %12.2f %12.2f %10.1f %8.3f %9llu\n", name.c_str(),
                  static_cast<unsigned long long>(t.images / passes), static_cast<double>(t.in_bytes) / passes / 1e6,
                  static_cast<double>(t.out_bytes) / passes / 1e6, rate, rate / (mc * 1e3),
                  static_cast<unsigned long long>(t.failures / passes));
    }
  }
  if (json) std::cout << out.dump(2) << '\n';
  return 0;
}
