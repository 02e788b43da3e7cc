// The plugin's decoded images on real traffic (tests/peers/make_display_sessions.py,
// recorded once per CTest run, and two GLib-client sessions recorded here): for
// each case, tshark with the plugin must report the images `spice-capture import`
// + `images` reports for the same pcap — per session the same sequence of type,
// id, size, cache operation and status — and `--export-objects spicecap,DIR` must
// write one PNG per decoded image, equal pixel for pixel to the file `images
// --export` writes for that image; in one pass and in two (-2, where the taps run
// on the second pass, from the PNGs the first one kept).
#include <gtest/gtest.h>
#include <spice/enums.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "peer_session.hpp"
#include "store/database.hpp"
#include "tshark_command.hpp"
#include "util/png.hpp"
#include "wireshark-plugin/images.hpp"

namespace sc::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path sessions_dir() { return fs::path(bin_dir()).parent_path() / "test-sessions" / "display"; }

json manifest() {
  std::ifstream in(sessions_dir() / "manifest.json");
  return json::parse(in, nullptr, false);
}

// What both sides say of one image.
struct Image {
  std::string type, status, cache;
  uint64_t id = 0, width = 0, height = 0;
  std::string file;  // plugin: the Export Objects name; CLI: the --export file
  bool overwritten = false;  // CLI: a later image of the same message wrote the same file name
};
using Sequences = std::map<int64_t, std::vector<Image>>;  // by session id (-channel id: a channel of no session)

std::string describe(const std::vector<Image>& v, size_t at) {
  std::string s;
  for (size_t i = at; i < v.size() && i < at + 5; ++i) s += v[i].type + "/" + std::to_string(v[i].id) + " ";
  return s;
}

// Sessions of a spice-gtk client that stays (the fixture's QEMU cases have only
// spicy-screenshot, one image each): hundreds of images, GLZ ones referring to
// earlier ones through the session's dictionary. Recorded by the test.
struct Recorded {
  std::string args, expect;
};
const std::map<std::string, Recorded> kRecorded = {
    {"qemu-glib-glz", {"--clients glib --duration 4 --image-compression glz", "glz_rgb"}},
    {"qemu-glib-lz4", {"--clients screenshot,glib --duration 4 --preferred-compression lz4", "lz4"}},
};

class ImageExport : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (tcpdump, and setpriv: tshark ignores WIRESHARK_PLUGIN_DIR as root)";
    // tshark runs as nobody: it reads the pcap and writes the export folder.
    work_ = temp_dir("ws-images-" + GetParam());
    fs::permissions(work_, fs::perms::all);
    pcap_ = work_ / "session.pcap";
    if (const auto rec = kRecorded.find(GetParam()); rec != kRecorded.end()) {
      auto r = run("/usr/bin/python3 " + source_dir() + "/tests/peers/make_capture.py --out " + pcap_.string() +
                       " --meta " + (work_ / "session.json").string() + " " + rec->second.args,
                   150);
      ASSERT_EQ(r.exit_code, 0) << "make_capture.py: " << r.output;
      case_ = {{"name", GetParam()}, {"expect", json::array({rec->second.expect})}};
    } else {
      const json m = manifest();
      ASSERT_TRUE(m.is_array()) << "no manifest in " << sessions_dir();
      for (const auto& e : m) {
        if (e["name"] == GetParam()) case_ = e;
      }
      ASSERT_FALSE(case_.is_null()) << GetParam() << " was not recorded (see the fixture's output)";
      fs::copy_file(case_["pcap"].get<std::string>(), pcap_, fs::copy_options::overwrite_existing);
    }
    fs::permissions(pcap_, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                               fs::perms::others_read);
    fs::create_directories(work_ / "home");
    fs::permissions(work_ / "home", fs::perms::all);
    db_ = work_ / "s.db";
    auto imported = run(spice_capture() + " import " + pcap_.string() + " -q --db " + db_.string(), 120);
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
  }
  void TearDown() override {
    if (!work_.empty()) fs::remove_all(work_);
  }

  CommandResult tshark(const std::string& args, bool with_stderr = false) const {
    return run(tshark_command((work_ / "home").string(), true) + "-r " + pcap_.string() + " " + args, 240,
               !with_stderr);
  }

  // Display channels as the store joined them: client port -> session id, and
  // how `images` selects each session (--session, or --channel for a channel of
  // no session).
  void display_channels(std::map<int, int64_t>& session_of_port, std::map<int64_t, std::string>& selector) const {
    auto db = store::Database::open(db_.string(), store::Database::Mode::ReadOnly);
    ASSERT_TRUE(db.ok());
    auto t = db->query("SELECT c.client, coalesce(s.session_id, 0), c.id FROM channels c LEFT JOIN sessions s"
                       " ON s.id = c.session WHERE c.type = " + std::to_string(SPICE_CHANNEL_DISPLAY));
    ASSERT_TRUE(t.ok());
    for (const auto& r : t->rows) {
      const auto& client = std::get<std::string>(r[0]);
      const int port = std::stoi(client.substr(client.rfind(':') + 1));
      const int64_t session = std::get<int64_t>(r[1]);
      // Channels of no session are each their own (the plugin's rule too): key them apart.
      const int64_t key = session ? session : -std::get<int64_t>(r[2]);
      session_of_port[port] = key;
      selector[key] = session ? " --session " + std::to_string(session) : " --channel " + std::to_string(-key);
    }
  }

  // `spice-capture images` of every session, exporting into `dir`.
  Sequences cli_images(const std::map<int64_t, std::string>& selector, const fs::path& dir) const {
    Sequences out;
    for (const auto& [key, sel] : selector) {
      auto r = run(spice_capture() + " images --db " + db_.string() + sel + " --json -l 100000000 --export " +
                       dir.string(),
                   240, true);
      EXPECT_EQ(r.exit_code, 0) << r.output;
      const json list = json::parse(r.output, nullptr, false);
      EXPECT_TRUE(list.is_array()) << r.output.substr(0, 400);
      if (!list.is_array()) continue;
      auto& seq = out[key];
      std::map<std::string, size_t> last;  // file -> last row that wrote it
      for (const auto& row : list) {
        Image i;
        i.type = row["type"];
        i.id = row["image_id"].get<uint64_t>();
        i.status = row["status"];
        i.cache = row["cache"].get<std::string>().empty() ? "none" : row["cache"].get<std::string>();
        i.width = row["width"].get<uint64_t>();
        i.height = row["height"].get<uint64_t>();
        i.file = "m" + std::to_string(row["message"].get<int64_t>()) + "-" + i.type + "-" + std::to_string(i.id) + ".png";
        if (auto it = last.find(i.file); it != last.end()) seq[it->second].overwritten = true;
        last[i.file] = seq.size();
        seq.push_back(i);
      }
    }
    return out;
  }

  // The plugin's images, from one tshark run, in packet order (tree order within one).
  Sequences plugin_images(const std::map<int, int64_t>& session_of_port, std::string& error) const {
    Sequences out;
    auto r = tshark("-Y spicecap.image -T json -e spicecap.client_port -e spicecap.image.type -e spicecap.image.id"
                    " -e spicecap.image.status -e spicecap.image.cache -e spicecap.image.width"
                    " -e spicecap.image.height -e spicecap.image.exported");
    if (r.exit_code != 0) {
      error = "tshark failed: " + r.output.substr(0, 400);
      return out;
    }
    const json packets = json::parse(r.output, nullptr, false);
    if (!packets.is_array()) {
      error = "tshark -T json: " + r.output.substr(0, 400);
      return out;
    }
    for (const auto& p : packets) {
      const json& l = p["_source"]["layers"];
      const int port = std::stoi(l["spicecap.client_port"][0].get<std::string>());
      const auto it = session_of_port.find(port);
      if (it == session_of_port.end()) {
        error = "images on port " + std::to_string(port) + ", which the store has no display channel for";
        return out;
      }
      const json& types = l["spicecap.image.type"];
      const json& ids = l["spicecap.image.id"];
      const json& statuses = l["spicecap.image.status"];
      const json& caches = l["spicecap.image.cache"];
      const json& widths = l["spicecap.image.width"];
      const json& heights = l["spicecap.image.height"];
      const json exported = l.contains("spicecap.image.exported") ? l["spicecap.image.exported"] : json::array();
      if (ids.size() != types.size() || statuses.size() != types.size() || caches.size() != types.size() ||
          widths.size() != types.size() || heights.size() != types.size()) {
        error = "misaligned image fields: " + l.dump();
        return out;
      }
      // Every image of these sessions decodes (the CLI's statuses are compared
      // below), so each has its Export Objects file and the lists line up; a case
      // with undecodable images would need its files matched another way.
      if (exported.size() != types.size()) {
        error = "not every image has an export file: " + l.dump();
        return out;
      }
      for (size_t k = 0; k < types.size(); ++k) {
        Image i;
        i.type = types[k];
        i.status = statuses[k];
        i.cache = caches[k];
        i.id = std::stoull(ids[k].get<std::string>());
        i.width = std::stoull(widths[k].get<std::string>());
        i.height = std::stoull(heights[k].get<std::string>());
        i.file = exported[k];
        out[it->second].push_back(i);
      }
    }
    return out;
  }

  json case_;
  fs::path work_, pcap_, db_;
};

size_t png_files(const fs::path& dir) {
  size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".png";
  return n;
}

TEST_P(ImageExport, ImagesAndFilesMatchTheCli) {
  std::map<int, int64_t> session_of_port;
  std::map<int64_t, std::string> selector;
  ASSERT_NO_FATAL_FAILURE(display_channels(session_of_port, selector));
  ASSERT_FALSE(selector.empty()) << "no display channel in " << pcap_;

  const fs::path cli_dir = work_ / "cli";
  const Sequences cli = cli_images(selector, cli_dir);
  std::string error;
  const Sequences plugin = plugin_images(session_of_port, error);
  ASSERT_EQ(error, "");

  // (a) The same images per type, and per session the same sequence.
  std::map<std::string, size_t> cli_types, plugin_types;
  size_t cli_decoded = 0;
  for (const auto& [key, seq] : cli) {
    for (const auto& i : seq) {
      ++cli_types[i.type];
      cli_decoded += i.status == "decoded";
    }
  }
  size_t plugin_hits = 0;
  for (const auto& [key, seq] : plugin) {
    for (const auto& i : seq) {
      ++plugin_types[i.type];
      plugin_hits += i.cache == "hit";
    }
  }
  EXPECT_EQ(plugin_types, cli_types);
  for (const auto& want : case_["expect"]) {
    // Besides image types the fixture names what must occur: a cache hit, a GLZ
    // image copying from earlier ones (not a plugin field: the CLI test checks it).
    if (want == "glz_reference") continue;
    if (want == "cache_hit") {
      EXPECT_GT(plugin_hits, 0u) << "no image shown as a cache hit";
      continue;
    }
    EXPECT_GT(plugin_types[want.get<std::string>()], 0u) << "no " << want << " image shown";
  }
  ASSERT_GT(cli_decoded, 0u);
  for (const auto& [key, seq] : cli) {
    const auto it = plugin.find(key);
    ASSERT_NE(it, plugin.end()) << "session " << key << ": the plugin shows none of its " << seq.size() << " images";
    const auto& mine = it->second;
    ASSERT_EQ(mine.size(), seq.size()) << "session " << key;
    for (size_t i = 0; i < seq.size(); ++i) {
      ASSERT_TRUE(mine[i].type == seq[i].type && mine[i].id == seq[i].id)
          << "session " << key << ", image " << i << ": plugin " << describe(mine, i) << "| cli " << describe(seq, i);
      EXPECT_EQ(mine[i].status, seq[i].status) << "session " << key << ", image " << i;
      EXPECT_EQ(mine[i].cache, seq[i].cache) << "session " << key << ", image " << i;
      EXPECT_EQ(mine[i].width, seq[i].width) << "session " << key << ", image " << i;
      EXPECT_EQ(mine[i].height, seq[i].height) << "session " << key << ", image " << i;
    }
  }

  // The fields filter.
  // (the case's own image type, or the first shown)
  const std::string type = !case_["expect"].empty() ? case_["expect"][0].get<std::string>() : plugin_types.begin()->first;
  auto filtered = tshark("-Y 'spicecap.image.type == \"" + type + "\"' -T fields -e spicecap.image.type");
  ASSERT_EQ(filtered.exit_code, 0) << filtered.output;
  size_t matches = 0;
  std::istringstream lines(filtered.output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream values(line);
    for (std::string v; std::getline(values, v, ',');) matches += v == type;
  }
  EXPECT_EQ(matches, plugin_types[type]) << "every " << type << " image is in a packet the filter matches";

  // (b) One PNG per decoded image, equal to the CLI's.
  const fs::path eo_dir = work_ / "eo";
  auto exported = tshark("-q --export-objects spicecap," + eo_dir.string(), true);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_EQ(png_files(eo_dir), cli_decoded);
  size_t compared = 0;
  for (const auto& [key, seq] : cli) {
    const auto& mine = plugin.at(key);
    for (size_t i = 0; i < seq.size(); ++i) {
      if (seq[i].overwritten) continue;  // the CLI's file holds a later image of the message
      const auto a = util::read_picture((eo_dir / mine[i].file).string());
      const auto b = util::read_picture((cli_dir / seq[i].file).string());
      ASSERT_TRUE(a.ok()) << mine[i].file << ": " << a.error().message;
      ASSERT_TRUE(b.ok()) << seq[i].file << ": " << b.error().message;
      ASSERT_EQ(a->width, b->width) << mine[i].file << " vs " << seq[i].file;
      ASSERT_EQ(a->height, b->height) << mine[i].file << " vs " << seq[i].file;
      ASSERT_TRUE(a->argb == b->argb) << mine[i].file << " differs from " << seq[i].file;
      ++compared;
    }
  }
  EXPECT_GT(compared, 0u);
  EXPECT_EQ(compared, png_files(cli_dir)) << "every file the CLI wrote was compared";

  // Two passes: the second (where taps run) exports from what the first kept.
  const fs::path eo2_dir = work_ / "eo2";
  auto two = tshark("-2 -q --export-objects spicecap," + eo2_dir.string(), true);
  ASSERT_EQ(two.exit_code, 0) << two.output;
  ASSERT_EQ(png_files(eo2_dir), png_files(eo_dir));
  for (const auto& e : fs::directory_iterator(eo_dir)) {
    std::ifstream x(e.path(), std::ios::binary), y(eo2_dir / e.path().filename(), std::ios::binary);
    const std::string bx((std::istreambuf_iterator<char>(x)), {}), by((std::istreambuf_iterator<char>(y)), {});
    ASSERT_FALSE(bx.empty()) << e.path();
    ASSERT_EQ(bx, by) << e.path().filename() << " differs between one pass and two";
  }
}

// (on the fixture's cases only: the preferences do not depend on the traffic)
class ImagePreferences : public ImageExport {};

// A memory bound of 0 keeps no PNG: nothing is exported, every image is still shown.
TEST_P(ImagePreferences, NoMemoryNoFiles) {
  const fs::path eo_dir = work_ / "eo0";
  auto r = tshark("-q -o spicecap.image_memory_mb:0 --export-objects spicecap," + eo_dir.string(), true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(png_files(eo_dir), 0u);
  auto shown = tshark("-o spicecap.image_memory_mb:0 -Y spicecap.image -T fields -e spicecap.image.exported"
                      " -e spicecap.image.type");
  ASSERT_EQ(shown.exit_code, 0);
  EXPECT_FALSE(shown.output.empty());
  EXPECT_EQ(shown.output.find(".png"), std::string::npos);
  // With images off, no image field at all.
  auto off = tshark("-o spicecap.decode_images:FALSE -Y spicecap.image -T fields -e frame.number");
  ASSERT_EQ(off.exit_code, 0);
  EXPECT_EQ(off.output, "");
}

// QUIC from QEMU and from our server, LZ4, and LZ with SURFACE images (drawn
// surfaces: the display state must draw as `images` does).
// The memory bound, below what the captures above reach: PNGs are kept until the
// next would pass it, then none (one refusal reported as the first); 0 keeps none
// and reports nothing. Display channels naming one session share one state.
TEST(ImageStore, KeepsPngsWithinTheBoundThenNone) {
  image::Pixels px(64, 48);
  for (size_t i = 0; i < px.data.size(); ++i) px.data[i] = 0xff000000u | static_cast<uint32_t>(i * 2654435761u >> 8);
  const auto png = util::encode_png(px.width, px.height, px.data);
  ASSERT_FALSE(png.empty());
  const uint64_t one = png.size();
  wsplugin::DisplaySessions d(2 * one + one / 2);
  bool first_refusal = true;
  EXPECT_EQ(d.keep_png(px, first_refusal), 0u);
  EXPECT_FALSE(first_refusal);
  EXPECT_EQ(d.keep_png(px, first_refusal), 1u);
  EXPECT_FALSE(first_refusal);
  EXPECT_EQ(d.keep_png(px, first_refusal), std::nullopt);
  EXPECT_TRUE(first_refusal);
  const image::Pixels tiny(1, 1);
  EXPECT_EQ(d.keep_png(tiny, first_refusal), std::nullopt) << "after the first refusal nothing more is kept";
  EXPECT_FALSE(first_refusal);
  EXPECT_EQ(d.png_bytes(), 2 * one);
  EXPECT_TRUE(std::equal(png.begin(), png.end(), d.png(1).begin(), d.png(1).end()));

  wsplugin::DisplaySessions off(0);
  EXPECT_EQ(off.keep_png(tiny, first_refusal), std::nullopt);
  EXPECT_FALSE(first_refusal);

  EXPECT_EQ(&d.feed_for(7), &d.feed_for(7));
  EXPECT_NE(&d.feed_for(7), &d.feed_for(8));
  EXPECT_NE(&d.feed_for(0), &d.feed_for(0));
}

const std::vector<std::string> kCases = {"qemu-quic",     "serve-photo-quic", "serve-photo-lz4",      "serve-desktop-glz",
                                         "qemu-glib-glz", "qemu-glib-lz4",    "mid-serve-desktop-glz"};

std::string case_name(const testing::TestParamInfo<std::string>& i) {
  std::string n = i.param;
  for (auto& ch : n) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Sessions, ImageExport, testing::ValuesIn(kCases), case_name);
INSTANTIATE_TEST_SUITE_P(Sessions, ImagePreferences, testing::Values("qemu-quic", "serve-desktop-glz"), case_name);

}  // namespace
}  // namespace sc::test
