// The store end to end on small, encoder-built sessions: decode stage, session
// tracker, StoreWriter (chunks, commits while writing), and the spice_* SQL
// functions that decode stored messages on demand. Also UTF-8 text in JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "capture/decode_fanout.hpp"
#include "dissect/framing/connection_framer.hpp"
#include "store/chunk_codec.hpp"
#include "store/database.hpp"
#include "store/store_writer.hpp"
#include "wire_builder.hpp"

namespace {

using namespace sc::test;
using sc::framing::HeaderKind;
using sc::schema::Direction;
namespace fs = std::filesystem;

constexpr uint32_t kSession = 0xc0ffee;

// One channel connection fed through a framer into the decode stage.
class Channel : public sc::framing::FrameSink {
 public:
  Channel(sc::capture::ConnectionSink& sink, uint32_t id) : sink_(sink), framer_(*this, false) {
    info_.id = id;
    info_.client.port = static_cast<uint16_t>(40000 + id);
    info_.server.port = 5900;
    info_.first_ts_ns = id * 1000;
    sink_.on_open(info_);
  }
  void link(uint8_t type, uint32_t connection_id) {
    framer_.feed(Direction::C2S, client_link(type, connection_id, {kAllCommon}), ++ts_);
    framer_.feed(Direction::S2C, server_reply(SPICE_LINK_ERR_OK, {kAllCommon}), ++ts_);
    Bytes auth = u32(SPICE_COMMON_CAP_AUTH_SPICE);
    append(auth, Bytes(128, 0x5a));
    framer_.feed(Direction::C2S, auth, ++ts_);
    framer_.feed(Direction::S2C, u32(SPICE_LINK_ERR_OK), ++ts_);
  }
  void send(Direction d, uint16_t type, const Bytes& body) {
    framer_.feed(d, data_message(HeaderKind::Mini, type, body), ++ts_);
  }
  void close() {
    framer_.finish(++ts_);
    sink_.on_close(info_, framer_.state(), ts_);
  }
  void on_frame(const sc::framing::Frame& f, const sc::framing::ChannelState& s) override { sink_.on_frame(info_, f, s); }
  void on_problem(const sc::framing::Problem& p, const sc::framing::ChannelState& s) override {
    sink_.on_problem(info_, p, s);
  }
  void on_channel_known(const sc::framing::ChannelState& s) override { sink_.on_channel_known(info_, s); }

 private:
  sc::capture::ConnectionSink& sink_;
  sc::capture::ConnectionInfo info_;
  sc::framing::ConnectionFramer framer_;
  uint64_t ts_ = 0;
};

Bytes main_init() {
  return encode(msg(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_INIT),
                {{"session_id", kSession}, {"display_channels_hint", 1}, {"supported_mouse_modes", 3},
                 {"current_mouse_mode", 2}, {"agent_connected", 0}, {"agent_tokens", 10},
                 {"multi_media_time", 5}, {"ram_hint", 1234}});
}

Bytes main_name(const std::string& name) {
  Bytes b = u32(static_cast<uint32_t>(name.size() + 1));
  b.insert(b.end(), name.begin(), name.end());
  b.push_back(0);
  return b;
}

class Store : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sc-store-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "s.db").string();
    auto db = sc::store::Database::open(path_, sc::store::Database::Mode::ReadWrite);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::make_unique<sc::store::Database>(std::move(db).value());
    ASSERT_TRUE(db_->exec("INSERT INTO captures (path, options) VALUES ('test', '{\"redact\":" +
                          std::string(redact_ ? "true" : "false") + "}')"));
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  // Main (with a UTF-8 name), inputs (three keys), display (init with cache ids,
  // then `display_traffic`).
  void record(sc::store::StoreWriter& writer, const std::function<void(Channel&)>& display_traffic = {}) {
    sc::capture::DecodeFanout fanout({&writer});
    Channel main(fanout, 1);
    main.link(SPICE_CHANNEL_MAIN, 0);
    main.send(Direction::S2C, SPICE_MSG_MAIN_INIT, main_init());
    main.send(Direction::S2C, SPICE_MSG_MAIN_NAME, main_name("Bürodesktop ✓"));
    Channel inputs(fanout, 2);
    inputs.link(SPICE_CHANNEL_INPUTS, kSession);
    for (uint32_t code : {0x1eu, 0x30u, 0x2eu}) inputs.send(Direction::C2S, SPICE_MSGC_INPUTS_KEY_DOWN, u32(code));
    Channel display(fanout, 3);
    display.link(SPICE_CHANNEL_DISPLAY, kSession);
    display.send(Direction::C2S, SPICE_MSGC_DISPLAY_INIT,
                 encode(msg(SPICE_CHANNEL_DISPLAY, Direction::C2S, SPICE_MSGC_DISPLAY_INIT),
                        {{"pixmap_cache_id", 1}, {"pixmap_cache_size", 1 << 20}, {"glz_dictionary_id", 2},
                         {"glz_dictionary_window_size", 4096}}));
    tracked_ = fanout.tracker().session_of(3) ? fanout.tracker().session_of(3)->display_caches[3] : tracked_;
    if (display_traffic) display_traffic(display);
    EXPECT_EQ(fanout.tracker().live_sessions(), 1u);
    inputs.close();
    display.close();
    main.close();
    EXPECT_EQ(fanout.tracker().live_sessions(), 0u);  // the last channel closed ended it
    fanout.finish();
    writer.finish();
    ASSERT_TRUE(writer.status().ok()) << writer.status().error().message;
  }

  sc::store::Table q(const std::string& sql) {
    auto t = db_->query(sql);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message) << " in " << sql;
    return t.ok() ? *t : sc::store::Table{};
  }
  sc::store::Cell one(const std::string& sql) {
    auto t = q(sql);
    return t.rows.empty() ? sc::store::Cell{} : t.rows[0][0];
  }

  bool redact_ = false;
  fs::path dir_;
  std::string path_;
  std::unique_ptr<sc::store::Database> db_;
  sc::session::DisplayCaches tracked_;
};

TEST_F(Store, SessionsChannelsAndMessages) {
  sc::store::StoreWriter writer(*db_, 1);
  record(writer);
  EXPECT_EQ(std::get<int64_t>(one("SELECT count(*) FROM sessions")), 1);
  EXPECT_EQ(std::get<int64_t>(one("SELECT session_id FROM sessions")), kSession);
  EXPECT_EQ(std::get<int64_t>(one("SELECT count(*) FROM channels WHERE session IS NULL")), 0);
  EXPECT_EQ(std::get<int64_t>(one("SELECT count(*) FROM messages WHERE name = 'inputs.key_down'")), 3);
  // Three keys after three link steps (mess, auth_mechanism, ticket).
  EXPECT_EQ(std::get<int64_t>(one("SELECT c2s_messages FROM channels WHERE type_name = 'inputs'")), 3 + 3);
  // The tracker saw the display channel's cache and dictionary ids.
  EXPECT_EQ(tracked_.pixmap_cache_id, 1);
  EXPECT_EQ(tracked_.glz_dictionary_id, 2);
  EXPECT_EQ(tracked_.glz_dictionary_window, 4096);
}

// With images on, every Image a display message carries is a row of `images`
// (decoded with the client's pixmap cache), and a bad one is also a problem row
// that names its message and the offset in the body.
TEST_F(Store, ImagesAreRowsAndBadImagesAreProblems) {
  sc::store::StoreWriter writer(*db_, 1, {.images = true});
  Bytes pixels;
  for (uint32_t p = 0; p < 6; ++p) append(pixels, u32(0x00102030u * (p + 1)));
  const json bitmap = {{"format", SPICE_BITMAP_FMT_32BIT}, {"flags", SPICE_BITMAP_FLAGS_TOP_DOWN}, {"x", 3}, {"y", 2},
                       {"stride", 12}, {"palette", nullptr}, {"data", hex(pixels)}};
  Bytes bad_lz(40, 0xee);  // no LZ magic
  record(writer, [&](Channel& display) {
    display.send(Direction::S2C, SPICE_MSG_DISPLAY_SURFACE_CREATE,
                 encode(msg(SPICE_CHANNEL_DISPLAY, Direction::S2C, SPICE_MSG_DISPLAY_SURFACE_CREATE),
                        {{"surface_id", 0}, {"width", 3}, {"height", 2}, {"format", SPICE_SURFACE_FMT_32_xRGB},
                         {"flags", SPICE_SURFACE_FLAGS_PRIMARY}}));
    display.send(Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY,
                 draw_copy(SPICE_IMAGE_TYPE_BITMAP, "bitmap", bitmap, 41, SPICE_IMAGE_FLAGS_CACHE_ME));
    display.send(Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY, draw_copy(SPICE_IMAGE_TYPE_FROM_CACHE, "", {}, 41));
    display.send(Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY, draw_copy(SPICE_IMAGE_TYPE_FROM_CACHE, "", {}, 42));
    display.send(Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY,
                 draw_copy(SPICE_IMAGE_TYPE_LZ_RGB, "lz_rgb", {{"data", hex(bad_lz)}}, 43));
  });
  const auto rows = q("SELECT i.type, i.cache, i.status, i.width, i.height, i.decoded_size, i.image_id, i.fault_code, "
                      "i.field, m.name FROM images i JOIN messages m ON m.id = i.message ORDER BY i.id");
  ASSERT_EQ(rows.rows.size(), 4u);
  auto text = [&](size_t r, int c) { return std::get<std::string>(rows.rows[r][c]); };
  auto num = [&](size_t r, int c) { return std::get<int64_t>(rows.rows[r][c]); };
  EXPECT_EQ(text(0, 0), "bitmap");
  EXPECT_EQ(text(0, 1), "store");
  EXPECT_EQ(text(0, 2), "decoded");
  EXPECT_EQ(num(0, 3), 3);
  EXPECT_EQ(num(0, 4), 2);
  EXPECT_EQ(num(0, 5), 3 * 2 * 4);
  EXPECT_EQ(text(0, 8), "display.draw_copy.data.src_bitmap");
  EXPECT_EQ(text(0, 9), "display.draw_copy");
  EXPECT_EQ(text(1, 0), "from_cache");
  EXPECT_EQ(text(1, 1), "hit");
  EXPECT_EQ(text(1, 2), "decoded");
  EXPECT_EQ(text(2, 1), "miss");
  EXPECT_EQ(text(2, 2), "failed");
  EXPECT_EQ(text(2, 7), "missing_reference");
  EXPECT_EQ(text(3, 0), "lz_rgb");
  EXPECT_EQ(text(3, 2), "failed");
  EXPECT_EQ(num(3, 6), 43);

  // The bad LZ image: a problem of its message, at an offset inside the image.
  const auto p = q("SELECT p.code, p.offset, p.message, i.offset, i.fault_offset, m.size FROM problems p "
                   "JOIN images i ON i.message = p.message JOIN message_rows m ON m.id = p.message "
                   "WHERE i.image_id = 43 AND p.code LIKE 'image_%'");
  ASSERT_EQ(p.rows.size(), 1u);
  const int64_t problem_at = std::get<int64_t>(p.rows[0][1]), image_at = std::get<int64_t>(p.rows[0][3]);
  const int64_t header = 6;  // mini header: problem offsets count it, image offsets are in the body
  EXPECT_GE(problem_at - header, image_at);
  EXPECT_LT(problem_at - header, std::get<int64_t>(p.rows[0][5]));
  EXPECT_EQ(problem_at - header, std::get<int64_t>(p.rows[0][4]));
  // A cache miss is a warning of its own message too.
  EXPECT_EQ(std::get<int64_t>(one("SELECT count(*) FROM problems WHERE code = 'image_missing_reference'")), 1);
}

// Without images (the default), the table stays empty.
TEST_F(Store, ImagesAreOffByDefault) {
  sc::store::StoreWriter writer(*db_, 1);
  record(writer, [&](Channel& display) {
    display.send(Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY, draw_copy(SPICE_IMAGE_TYPE_FROM_CACHE, "", {}, 42));
  });
  EXPECT_EQ(std::get<int64_t>(one("SELECT count(*) FROM messages WHERE name = 'display.draw_copy'")), 1);
  EXPECT_EQ(std::get<int64_t>(one("SELECT count(*) FROM images")), 0);
}

TEST_F(Store, FieldsAreDecodedOnDemand) {
  sc::store::StoreWriter writer(*db_, 1);
  record(writer);
  EXPECT_EQ(std::get<int64_t>(one("SELECT spice_field(id, 'session_id') FROM messages WHERE name = 'main.init'")),
            kSession);
  EXPECT_EQ(std::get<int64_t>(one("SELECT spice_field(id, 'main.init.ram_hint') FROM messages WHERE name = 'main.init'")),
            1234);
  EXPECT_EQ(std::get<int64_t>(one("SELECT json_extract(spice_json(id), '$.agent_tokens') FROM messages "
                                  "WHERE name = 'main.init'")),
            10);
  auto codes = q("SELECT spice_field(id, 'code') FROM messages WHERE name = 'inputs.key_down' ORDER BY id");
  ASSERT_EQ(codes.rows.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(codes.rows[2][0]), 0x2e);
  // Raw bytes come back exactly: mini header (type, size) then the body.
  EXPECT_EQ(std::get<std::string>(one("SELECT hex(spice_raw(id)) FROM messages WHERE name = 'inputs.key_down' "
                                      "ORDER BY id LIMIT 1")),
            "6500040000001E000000");
  EXPECT_EQ(std::get<std::string>(one("SELECT CAST(substr(spice_raw(id), 1, 4) AS TEXT) FROM messages WHERE name = 'link.mess'")),
            "REDQ");
  // No such field, no such message: NULL, not an error.
  EXPECT_TRUE(std::holds_alternative<std::monostate>(
      one("SELECT spice_field(id, 'nonsense') FROM messages WHERE name = 'main.init'")));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(one("SELECT spice_json(999999)")));
  EXPECT_NE(std::get<std::string>(one("SELECT spice_text(id) FROM messages WHERE name = 'main.init'")).find("ram_hint=1234"),
            std::string::npos);
}

TEST_F(Store, TextStaysUtf8) {
  sc::store::StoreWriter writer(*db_, 1);
  record(writer);
  EXPECT_EQ(std::get<std::string>(one("SELECT spice_field(id, 'name') FROM messages WHERE name = 'main.name'")),
            "Bürodesktop ✓");
  EXPECT_EQ(std::get<std::string>(one("SELECT json_extract(spice_json(id), '$.name') FROM messages "
                                      "WHERE name = 'main.name'")),
            "Bürodesktop ✓");
}

class RedactedStore : public Store {
 protected:
  RedactedStore() { redact_ = true; }
};

TEST_F(RedactedStore, SecretsAreZerosOnDiskAndNullInSql) {
  sc::store::StoreWriter writer(*db_, 1, {.redact = sc::schema::kSecretAll});
  record(writer);
  EXPECT_EQ(std::get<int64_t>(one("SELECT count(*) FROM messages WHERE name = 'inputs.key_down' "
                                  "AND substr(spice_raw(id), 7) = zeroblob(4)")),
            3);
  EXPECT_EQ(std::get<int64_t>(one("SELECT count(*) FROM messages WHERE name = 'inputs.key_down' "
                                  "AND spice_field(id, 'code') IS NULL AND json_extract(spice_json(id), '$.code') IS NULL")),
            3);
  EXPECT_EQ(std::get<int64_t>(one("SELECT spice_field(id, 'session_id') FROM messages WHERE name = 'main.init'")),
            kSession);
}

TEST_F(Store, ReadersSeeCommittedMessagesWhileWriting) {
  sc::store::StoreWriter writer(*db_, 1, {.commit_interval = std::chrono::milliseconds(20)});
  sc::capture::DecodeFanout fanout({&writer});
  Channel inputs(fanout, 2);
  inputs.link(SPICE_CHANNEL_INPUTS, kSession);
  // Enough messages to fill a batch and hand it to the writer's thread.
  for (uint32_t i = 0; i < 3000; ++i) inputs.send(Direction::C2S, SPICE_MSGC_INPUTS_KEY_DOWN, u32(i));
  auto reader = sc::store::Database::open(path_, sc::store::Database::Mode::ReadOnly);
  ASSERT_TRUE(reader.ok());
  int64_t seen = 0;
  for (int i = 0; i < 200 && seen == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto t = reader->query("SELECT count(*), count(spice_raw(id)) FROM messages");
    ASSERT_TRUE(t.ok()) << t.error().message;
    seen = std::get<int64_t>(t->rows[0][0]);
    // Whatever is committed has its bytes committed with it.
    EXPECT_EQ(std::get<int64_t>(t->rows[0][1]), seen);
  }
  EXPECT_GT(seen, 0);
  inputs.close();
  fanout.finish();
  writer.finish();
  auto t = reader->query("SELECT count(*) FROM messages WHERE name = 'inputs.key_down'");
  EXPECT_EQ(std::get<int64_t>(t->rows[0][0]), 3000);
}

TEST_F(Store, TlsChannelJoinsTheSessionOfItsAddresses) {
  sc::store::StoreWriter writer(*db_, 1);
  sc::capture::DecodeFanout fanout({&writer});
  Channel main(fanout, 1);
  main.link(SPICE_CHANNEL_MAIN, 0);
  main.send(Direction::S2C, SPICE_MSG_MAIN_INIT, main_init());
  // The same client and server addresses, the server's TLS port.
  sc::capture::ConnectionInfo tls;
  tls.id = 9;
  tls.client.port = 40009;
  tls.server.port = 5901;
  tls.tls = true;
  fanout.on_open(tls);
  sc::capture::TlsInfo info{.version = "TLS 1.3", .sni = "spice.example", .bytes = {517, 2048}};
  fanout.on_tls(tls, info);
  static const sc::framing::ChannelState kNone;
  fanout.on_close(tls, kNone, 99);
  main.close();
  fanout.finish();
  writer.finish();
  ASSERT_TRUE(writer.status().ok());
  auto t = q("SELECT s.session_id, c.tls_version, c.tls_sni, c.c2s_bytes, c.s2c_bytes FROM channels c "
             "JOIN sessions s ON s.id = c.session WHERE c.tls = 1");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(t.rows[0][0]), kSession);
  EXPECT_EQ(std::get<std::string>(t.rows[0][1]), "TLS 1.3");
  EXPECT_EQ(std::get<std::string>(t.rows[0][2]), "spice.example");
  EXPECT_EQ(std::get<int64_t>(t.rows[0][3]), 517);
  EXPECT_EQ(std::get<int64_t>(t.rows[0][4]), 2048);
}

TEST(ChunkCodec, RoundTripsAndRejectsDamage) {
  std::vector<uint8_t> text(100000);
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<uint8_t>("spice "[i % 6]);
  auto packed = sc::store::pack_chunk(text);
  EXPECT_EQ(packed.codec, "lz4");
  EXPECT_LT(packed.data.size(), text.size() / 10);
  std::vector<uint8_t> out;
  ASSERT_TRUE(sc::store::unpack_chunk(packed.codec, packed.data, text.size(), out).ok());
  EXPECT_EQ(out, text);
  // Noise is kept as it is.
  std::vector<uint8_t> noise(5000);
  uint32_t x = 1;
  for (auto& b : noise) b = static_cast<uint8_t>((x = x * 1103515245u + 12345u) >> 24);
  auto raw = sc::store::pack_chunk(noise);
  EXPECT_EQ(raw.codec, "none");
  ASSERT_TRUE(sc::store::unpack_chunk(raw.codec, raw.data, noise.size(), out).ok());
  EXPECT_EQ(out, noise);
  // A damaged or mislabelled chunk is an error, never a crash or wrong bytes.
  packed.data.resize(packed.data.size() / 2);
  EXPECT_FALSE(sc::store::unpack_chunk("lz4", packed.data, text.size(), out).ok());
  EXPECT_FALSE(sc::store::unpack_chunk("none", raw.data, noise.size() + 1, out).ok());
  EXPECT_FALSE(sc::store::unpack_chunk("zstd", raw.data, noise.size(), out).ok());
}

TEST(JsonText, Utf8PassesInvalidBytesAreMarked) {
  auto render = [](std::string_view s) {
    std::string out;
    sc::decode::append_json_string(out, s);
    return out;
  };
  EXPECT_EQ(render("é ✓ 😀"), "\"é ✓ 😀\"");
  EXPECT_EQ(render("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(render("\xff"), "\"\xef\xbf\xbd\"");              // not a start byte
  EXPECT_EQ(render("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");  // overlong '/'
  EXPECT_EQ(render("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");  // a surrogate
  EXPECT_EQ(render("ab\xe2\x9c"), "\"ab\xef\xbf\xbd\xef\xbf\xbd\"");  // cut short
  // Whatever comes in, what goes out is JSON a strict parser takes.
  for (int b = 0; b < 256; ++b) {
    const std::string s = "x" + std::string(1, static_cast<char>(b)) + "\xc3\xa9";
    EXPECT_TRUE(nlohmann::json::accept(render(s))) << b;
  }
}

}  // namespace

namespace {

// A version 2 store (before the agent tables) is upgraded when opened for writing,
// and read-only commands say how to get there.
TEST(StoreSchema, VersionTwoGetsTheAgentTablesWhenOpenedForWriting) {
  const auto path = (fs::temp_directory_path() / ("store-v2-" + std::to_string(getpid()) + ".db")).string();
  fs::remove(path);
  {
    auto db = sc::store::Database::open(path, sc::store::Database::Mode::ReadWrite);
    ASSERT_TRUE(db.ok()) << db.error().message;
    // Back to what version 2 had.
    ASSERT_TRUE(db->exec("DROP VIEW images; DROP TABLE image_rows; DROP TABLE clipboard; DROP TABLE file_transfers; DROP TABLE agent_messages; "
                         "DROP INDEX problems_by_code; ALTER TABLE problems DROP COLUMN ts_ns; "
                         "ALTER TABLE captures DROP COLUMN interface_drops; "
                         "ALTER TABLE captures DROP COLUMN kernel_drops; ALTER TABLE captures DROP COLUMN received; "
                         "PRAGMA user_version = 2;"));
  }
  auto ro = sc::store::Database::open(path, sc::store::Database::Mode::ReadOnly);
  ASSERT_FALSE(ro.ok());
  EXPECT_NE(ro.error().message.find("schema 2"), std::string::npos) << ro.error().message;
  {
    auto rw = sc::store::Database::open(path, sc::store::Database::Mode::ReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.error().message;
  }
  auto db = sc::store::Database::open(path, sc::store::Database::Mode::ReadOnly);
  ASSERT_TRUE(db.ok()) << db.error().message;
  for (const char* table : {"agent_messages", "clipboard", "file_transfers"}) {
    auto t = db->query(std::string("SELECT count(*) FROM ") + table);
    EXPECT_TRUE(t.ok()) << table;
  }
  EXPECT_TRUE(db->query("SELECT ts_ns FROM problems").ok());
  // ... and on through versions 4 and 5 in the same step.
  EXPECT_TRUE(db->query("SELECT received, kernel_drops, interface_drops FROM captures").ok());
  EXPECT_TRUE(db->query("SELECT count(*) FROM images").ok());
  EXPECT_EQ(std::get<int64_t>(db->query("PRAGMA user_version")->rows[0][0]), sc::store::kSchemaVersion);
  fs::remove(path);
}

// The columns of a table, in order, as `PRAGMA table_info` gives them.
std::vector<std::string> columns_of(sc::store::Database& db, const std::string& table) {
  std::vector<std::string> out;
  auto t = db.query("SELECT name FROM pragma_table_info('" + table + "')");
  if (t) {
    for (const auto& r : t->rows) out.push_back(std::get<std::string>(r[0]));
  }
  return out;
}

// A version 3 store (before live capture statistics) gets the captures columns
// when opened for writing: its captures keep their rows, with the statistics NULL,
// and the table ends up with the columns of a new store, in the same order.
TEST(StoreSchema, VersionThreeGetsCaptureStatisticsWhenOpenedForWriting) {
  const auto dir = fs::temp_directory_path();
  const auto path = (dir / ("store-v3-" + std::to_string(getpid()) + ".db")).string();
  const auto fresh_path = (dir / ("store-v4-" + std::to_string(getpid()) + ".db")).string();
  fs::remove(path);
  fs::remove(fresh_path);
  std::vector<std::string> fresh_columns, fresh_image_columns;
  {
    auto fresh = sc::store::Database::open(fresh_path, sc::store::Database::Mode::ReadWrite);
    ASSERT_TRUE(fresh.ok()) << fresh.error().message;
    fresh_columns = columns_of(*fresh, "captures");
    fresh_image_columns = columns_of(*fresh, "images");
    EXPECT_FALSE(fresh_image_columns.empty());
    for (const char* c : {"received", "kernel_drops", "interface_drops"}) {
      EXPECT_NE(std::find(fresh_columns.begin(), fresh_columns.end(), c), fresh_columns.end()) << c;
    }
  }
  {
    auto db = sc::store::Database::open(path, sc::store::Database::Mode::ReadWrite);
    ASSERT_TRUE(db.ok()) << db.error().message;
    // Back to what version 3 had, with one imported capture in it.
    const auto downgraded = db->exec(
        "DROP VIEW images; DROP TABLE image_rows; "
        "ALTER TABLE captures DROP COLUMN interface_drops; ALTER TABLE captures DROP COLUMN kernel_drops; "
        "ALTER TABLE captures DROP COLUMN received; "
        "INSERT INTO captures (path, status, packets) VALUES ('old.pcap', 'complete', 42); PRAGMA user_version = 3;");
    ASSERT_TRUE(downgraded.ok()) << downgraded.error().message;
  }
  auto ro = sc::store::Database::open(path, sc::store::Database::Mode::ReadOnly);
  ASSERT_FALSE(ro.ok());
  EXPECT_NE(ro.error().message.find("schema 3"), std::string::npos) << ro.error().message;
  EXPECT_NE(ro.error().message.find("open it for writing once"), std::string::npos) << ro.error().message;
  {
    auto rw = sc::store::Database::open(path, sc::store::Database::Mode::ReadWrite);
    ASSERT_TRUE(rw.ok()) << rw.error().message;
  }
  auto db = sc::store::Database::open(path, sc::store::Database::Mode::ReadOnly);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(std::get<int64_t>(db->query("PRAGMA user_version")->rows[0][0]), sc::store::kSchemaVersion);
  EXPECT_EQ(columns_of(*db, "captures"), fresh_columns);
  EXPECT_EQ(columns_of(*db, "images"), fresh_image_columns);
  auto old = db->query("SELECT path, status, packets, received, kernel_drops, interface_drops FROM captures");
  ASSERT_TRUE(old.ok()) << old.error().message;
  ASSERT_EQ(old->rows.size(), 1u);
  EXPECT_EQ(std::get<std::string>(old->rows[0][0]), "old.pcap");
  EXPECT_EQ(std::get<std::string>(old->rows[0][1]), "complete");
  EXPECT_EQ(std::get<int64_t>(old->rows[0][2]), 42);
  for (int c = 3; c < 6; ++c) EXPECT_TRUE(std::holds_alternative<std::monostate>(old->rows[0][c])) << c;
  // The message indexes are in place after the upgrade, as after any open for writing.
  EXPECT_EQ(std::get<int64_t>(db->query("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                                        "('messages_by_name', 'messages_by_channel')")
                                  ->rows[0][0]),
            2);
  fs::remove(path);
  fs::remove(fresh_path);
}

}  // namespace
