// `render` on real traffic: spicy-screenshot against QEMU under every
// image-compression setting and WAN mode, and against our own server's scenarios
// (tests/peers/make_display_sessions.py, recorded once per CTest run). The render
// right after the session's first display mark (when spicy-screenshot saves its
// picture) must equal the client's picture pixel for pixel; for our server's
// cases, the render at the end of the GLib client's session (the last one) must
// equal the frame the simulator drew once its workload finished. The image types each case is there for must have been decoded.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "peer_session.hpp"
#include "store/database.hpp"

namespace sc::test {
namespace {

using json = nlohmann::json;

std::filesystem::path sessions_dir() {
  return std::filesystem::path(bin_dir()).parent_path() / "test-sessions" / "display";
}

json manifest() {
  std::ifstream in(sessions_dir() / "manifest.json");
  return json::parse(in, nullptr, false);
}

// The cases of make_display_sessions.py (tests are listed before the fixture runs,
// so the names cannot come from its manifest).
const std::vector<std::string> kCases = {
    "qemu-off", "qemu-auto_glz", "qemu-auto_lz", "qemu-quic", "qemu-glz", "qemu-lz", "qemu-jpeg-wan",
    "qemu-zlib-wan", "serve-desktop-glz", "serve-office-cache", "serve-photo-quic", "serve-photo-lz4",
    "serve-photo-jpeg", "serve-photo-zlib", "serve-video-mjpeg"};

class Render : public testing::TestWithParam<std::string> {};

TEST_P(Render, MatchesTheClientsPicture) {
  const json m = manifest();
  ASSERT_TRUE(m.is_array()) << "no manifest in " << sessions_dir();
  json c;
  for (const auto& e : m) {
    if (e["name"] == GetParam()) c = e;
  }
  ASSERT_FALSE(c.is_null()) << GetParam() << " was not recorded (see the fixture's output)";
  const auto work = temp_dir("render-" + GetParam());
  const std::string db = (work / "s.db").string();
  auto imported = run(spice_capture() + " import " + c["pcap"].get<std::string>() + " -q --images --db " + db);
  ASSERT_EQ(imported.exit_code, 0) << imported.output;

  auto marks = run(spice_capture() + " messages --db " + db + " --name display.mark --json -l 1", 60, true);
  ASSERT_EQ(marks.exit_code, 0) << marks.output;
  const json mark = json::parse(marks.output, nullptr, false);
  ASSERT_TRUE(mark.is_array() && !mark.empty()) << "no display.mark in the session: " << marks.output;
  const int64_t mark_id = mark[0]["id"];

  auto shot = run(spice_capture() + " render --db " + db + " --after-message " + std::to_string(mark_id) + " -o " +
                      (work / "mark.png").string() + " --compare " + c["shot"].get<std::string>() + " --json",
                  120, true);
  const json r = json::parse(shot.output, nullptr, false);
  ASSERT_FALSE(r.is_discarded()) << shot.output;
  EXPECT_EQ(shot.exit_code, 0) << r.dump(2);
  EXPECT_EQ(r["compare"]["differing"], 0) << r["compare"].dump();
  EXPECT_EQ(r["image_failures"], 0);
  EXPECT_TRUE(std::filesystem::exists(work / "mark.png"));

  if (c.contains("expected_end") && c["expected_end"].is_string() &&
      std::filesystem::exists(c["expected_end"].get<std::string>())) {
    // The last session (the GLib client's) stays until the workload has finished.
    auto sessions = run(spice_capture() + " sessions --db " + db + " --json", 60, true);
    const json ss = json::parse(sessions.output, nullptr, false);
    ASSERT_TRUE(ss.is_array() && !ss.empty()) << sessions.output;
    const int64_t last = ss.back()["session_id"];
    auto end = run(spice_capture() + " render --db " + db + " --session " + std::to_string(last) + " -o " +
                       (work / "end.png").string() + " --compare " +
                       c["expected_end"].get<std::string>() +
                       // Lossy paths (JPEG, MJPEG streams) against the simulator's lossless frame: a bound.
                       (c["lossy"].get<bool>() ? " --min-psnr 30" : "") + " --json",
                   120, true);
    const json e = json::parse(end.output, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << end.output;
    EXPECT_EQ(end.exit_code, 0) << e.dump(2);
    if (!c["lossy"].get<bool>()) {
      EXPECT_EQ(e["compare"]["differing"], 0) << "end of session vs the simulator's frame: " << e["compare"].dump();
    }
  }

  auto images = run(spice_capture() + " images --db " + db + " --json -l 100000", 120, true);
  ASSERT_EQ(images.exit_code, 0) << images.output;
  const json list = json::parse(images.output, nullptr, false);
  ASSERT_TRUE(list.is_array());
  std::set<std::string> decoded;
  for (const auto& i : list) {
    EXPECT_EQ(i["status"], "decoded") << i.dump();
    decoded.insert(i["type"].get<std::string>());
  }
  for (const auto& want : c["expect"]) {
    EXPECT_TRUE(decoded.count(want.get<std::string>())) << GetParam() << ": no " << want << " image was decoded";
  }

  // import --images found the same images, in the same order, as `images` (which
  // decodes the session, its first, again on demand, drawing as it goes): one
  // images row each.
  ASSERT_FALSE(list.empty());
  auto store = store::Database::open(db, store::Database::Mode::ReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto rows = store->query(
      "SELECT message, type, width, height, compressed_size, decoded_size, cache, status, image_id FROM images "
      "WHERE channel IN (SELECT id FROM channels WHERE session = (SELECT session FROM channels WHERE id = ?1)) "
      "ORDER BY id",
      {store::Cell{list[0]["channel"].get<int64_t>()}});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->rows.size(), list.size());
  for (size_t k = 0; k < list.size(); ++k) {
    const auto& row = rows->rows[k];
    const auto& i = list[k];
    auto num = [&](int col) { return std::get<int64_t>(row[col]); };
    auto text = [&](int col) { return std::get<std::string>(row[col]); };
    SCOPED_TRACE(i.dump());
    EXPECT_EQ(num(0), i["message"].get<int64_t>());
    EXPECT_EQ(text(1), i["type"].get<std::string>());
    EXPECT_EQ(num(2), i["width"].get<int64_t>());
    EXPECT_EQ(num(3), i["height"].get<int64_t>());
    EXPECT_EQ(num(4), i["bytes"].get<int64_t>());
    EXPECT_EQ(num(5), i["decoded_bytes"].get<int64_t>());
    EXPECT_EQ(text(6), i["cache"].get<std::string>());
    // Import draws nothing, so an image taken from a surface is not decoded there.
    EXPECT_EQ(text(7), i["type"] == "surface" ? "not_decoded" : i["status"].get<std::string>());
    EXPECT_EQ(num(8), i["image_id"].get<int64_t>());
  }
  auto bad = store->query("SELECT count(*) FROM problems WHERE code LIKE 'image_%'");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(std::get<int64_t>(bad->rows[0][0]), 0);
}

INSTANTIATE_TEST_SUITE_P(Sessions, Render, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (auto& ch : n) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace sc::test
