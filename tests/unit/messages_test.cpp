// Field layouts of individual messages, checked against bytes laid out by hand
// from spice/protocol.h and spice.proto, including the spots other decoders get wrong.
#include <gtest/gtest.h>

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/json.hpp"
#include "dissect/decode/sub_messages.hpp"
#include "wire_builder.hpp"

namespace {

using namespace sc::test;
using sc::schema::Direction;

nlohmann::json decode_json(uint8_t channel, Direction d, uint16_t type, const Bytes& body) {
  const auto* def = msg(channel, d, type);
  EXPECT_NE(def, nullptr);
  sc::decode::DecodedMessage m;
  sc::decode::decode_message(*def, body, {}, m);
  for (const auto& diag : m.diagnostics) ADD_FAILURE() << diag.path << ": " << diag.text;
  std::string s;
  sc::decode::append_json(m, body, s);
  return nlohmann::json::parse(s);
}

Bytes le(std::initializer_list<std::pair<uint64_t, int>> fields) {
  Bytes b;
  for (auto [v, w] : fields) put_le(b, v, w);
  return b;
}

TEST(Messages, MainInit) {
  auto j = decode_json(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_INIT,
                       le({{0xdeadbeef, 4}, {1, 4}, {3, 4}, {2, 4}, {1, 4}, {10, 4}, {12345, 4}, {0, 4}}));
  EXPECT_EQ(j["session_id"], 0xdeadbeef);
  EXPECT_EQ(j["supported_mouse_modes"], 3);
  EXPECT_EQ(j["current_mouse_mode"], 2);
  EXPECT_EQ(j["agent_tokens"], 10);
  EXPECT_EQ(j["multi_media_time"], 12345);
}

TEST(Messages, MainChannelsListAndMouseMode) {
  auto j = decode_json(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_CHANNELS_LIST,
                       le({{2, 4}, {SPICE_CHANNEL_DISPLAY, 1}, {0, 1}, {SPICE_CHANNEL_INPUTS, 1}, {0, 1}}));
  ASSERT_EQ(j["channels"].size(), 2u);
  EXPECT_EQ(j["channels"][1]["type"], SPICE_CHANNEL_INPUTS);
  auto m = decode_json(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_MOUSE_MODE, le({{3, 2}, {2, 2}}));
  EXPECT_EQ(m["current_mode"], 2);
  auto r = decode_json(SPICE_CHANNEL_MAIN, Direction::C2S, SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST, le({{2, 2}}));
  EXPECT_EQ(r["mode"], 2);
}

TEST(Messages, MainNameUuidAgent) {
  Bytes name = le({{6, 4}});
  for (char c : std::string("guest")) name.push_back(static_cast<uint8_t>(c));
  name.push_back(0);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_NAME, name)["name"], "guest");
  Bytes uuid(16, 0x11);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_UUID, uuid)["uuid"],
            "11111111111111111111111111111111");
  EXPECT_EQ(decode_json(SPICE_CHANNEL_MAIN, Direction::C2S, SPICE_MSGC_MAIN_AGENT_START, le({{10, 4}}))["num_tokens"], 10);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_AGENT_DISCONNECTED, le({{1, 4}}))["error_code"], 1);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_MAIN, Direction::C2S, SPICE_MSGC_MAIN_CLIENT_INFO, le({{1 << 20, 8}}))["cache_size"],
            1 << 20);
}

TEST(Messages, MainMigrationHostThroughOffsets) {
  // port, sport, host_size, host_data offset, cert_subject_size, cert_subject_data offset, then the strings
  Bytes b = le({{5900, 2}, {5901, 2}, {5, 4}, {20, 4}, {0, 4}, {0, 4}});
  for (char c : std::string("host")) b.push_back(static_cast<uint8_t>(c));
  b.push_back(0);
  auto j = decode_json(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST, b);
  EXPECT_EQ(j["port"], 5900);
  EXPECT_EQ(j["host_data"], "host");
  EXPECT_TRUE(j["cert_subject_data"].is_null());
}

TEST(Messages, InputsMouseButtonsAreU8PlusU16) {
  auto j = decode_json(SPICE_CHANNEL_INPUTS, Direction::C2S, SPICE_MSGC_INPUTS_MOUSE_PRESS,
                       le({{SPICE_MOUSE_BUTTON_RIGHT, 1}, {SPICE_MOUSE_BUTTON_MASK_RIGHT, 2}}));
  EXPECT_EQ(j["button"], SPICE_MOUSE_BUTTON_RIGHT);
  EXPECT_EQ(j["buttons_state"], SPICE_MOUSE_BUTTON_MASK_RIGHT);
  auto p = decode_json(SPICE_CHANNEL_INPUTS, Direction::C2S, SPICE_MSGC_INPUTS_MOUSE_POSITION,
                       le({{640, 4}, {480, 4}, {1, 2}, {0, 1}}));
  EXPECT_EQ(p["x"], 640);
  EXPECT_EQ(p["display_id"], 0);
  auto m = decode_json(SPICE_CHANNEL_INPUTS, Direction::C2S, SPICE_MSGC_INPUTS_MOUSE_MOTION,
                       le({{static_cast<uint32_t>(-5), 4}, {7, 4}, {0, 2}}));
  EXPECT_EQ(m["dx"], -5);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_INPUTS, Direction::C2S, SPICE_MSGC_INPUTS_KEY_DOWN, le({{0x1e, 4}}))["code"], 0x1e);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_INPUTS, Direction::C2S, SPICE_MSGC_INPUTS_KEY_UP, le({{0x9e, 4}}))["code"], 0x9e);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_INPUTS, Direction::S2C, SPICE_MSG_INPUTS_INIT, le({{2, 2}}))["keyboard_modifiers"], 2);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_INPUTS, Direction::C2S, SPICE_MSGC_INPUTS_KEY_SCANCODE, le({{0x1e, 1}}))["data"], "1e");
}

TEST(Messages, CursorWithAndWithoutShape) {
  // position, visible, flags=CACHE_ME, header (unique, type, w, h, hot x, hot y), 4 pixel bytes
  Bytes with = le({{10, 2}, {20, 2}, {1, 1}, {SPICE_CURSOR_FLAGS_CACHE_ME, 2}, {77, 8}, {SPICE_CURSOR_TYPE_ALPHA, 1},
                   {1, 2}, {1, 2}, {0, 2}, {0, 2}, {0xffffffff, 4}});
  auto j = decode_json(SPICE_CHANNEL_CURSOR, Direction::S2C, SPICE_MSG_CURSOR_SET, with);
  EXPECT_EQ(j["position"]["x"], 10);
  EXPECT_EQ(j["cursor"]["header"]["unique"], 77);
  EXPECT_EQ(j["cursor"]["data"], "ffffffff");
  // The NONE flag means no shape header follows.
  Bytes without = le({{1, 2}, {2, 2}, {0, 1}, {SPICE_CURSOR_FLAGS_NONE, 2}});
  auto k = decode_json(SPICE_CHANNEL_CURSOR, Direction::S2C, SPICE_MSG_CURSOR_SET, without);
  EXPECT_FALSE(k["cursor"].contains("header"));
  auto init = decode_json(SPICE_CHANNEL_CURSOR, Direction::S2C, SPICE_MSG_CURSOR_INIT,
                          le({{0, 2}, {0, 2}, {0, 2}, {0, 2}, {1, 1}, {SPICE_CURSOR_FLAGS_NONE, 2}}));
  EXPECT_EQ(init["visible"], 1);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_CURSOR, Direction::S2C, SPICE_MSG_CURSOR_MOVE, le({{5, 2}, {6, 2}}))["position"]["y"], 6);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_CURSOR, Direction::S2C, SPICE_MSG_CURSOR_INVAL_ONE, le({{9, 8}}))["id"], 9);
  EXPECT_EQ(decode_json(SPICE_CHANNEL_CURSOR, Direction::S2C, SPICE_MSG_CURSOR_TRAIL, le({{3, 2}, {4, 2}}))["frequency"], 4);
}

TEST(Messages, PortInitNameIsReachedThroughAnOffset) {
  Bytes b = le({{5, 4}, {9, 4}, {1, 1}});
  for (char c : std::string("test")) b.push_back(static_cast<uint8_t>(c));
  b.push_back(0);
  auto j = decode_json(SPICE_CHANNEL_PORT, Direction::S2C, SPICE_MSG_PORT_INIT, b);
  EXPECT_EQ(j["name"], "test");
  EXPECT_EQ(j["opened"], 1);
}

TEST(Messages, DisplayFillWithClipRects) {
  // surface 0, box (top, left, bottom, right), clip RECTS with one rect, brush SOLID, rop, mask none
  Bytes b = le({{0, 4}, {1, 4}, {2, 4}, {3, 4}, {4, 4}, {SPICE_CLIP_TYPE_RECTS, 1}, {1, 4}, {5, 4}, {6, 4}, {7, 4},
                {8, 4}, {SPICE_BRUSH_TYPE_SOLID, 1}, {0x00ff00, 4}, {SPICE_ROPD_OP_PUT, 2}, {0, 1}, {0, 4}, {0, 4},
                {0, 4}});
  auto j = decode_json(SPICE_CHANNEL_DISPLAY, Direction::S2C, SPICE_MSG_DISPLAY_DRAW_FILL, b);
  EXPECT_EQ(j["base"]["box"]["top"], 1);
  EXPECT_EQ(j["base"]["box"]["right"], 4);
  EXPECT_EQ(j["base"]["clip"]["rects"]["rects"][0]["left"], 6);
  EXPECT_EQ(j["data"]["brush"]["color"], 0x00ff00);
  EXPECT_TRUE(j["data"]["mask"]["bitmap"].is_null());
}

TEST(Messages, TruncatedBodyIsALocatedDiagnostic) {
  const auto* def = msg(SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_INIT);
  Bytes b = le({{1, 4}, {2, 4}});
  sc::decode::DecodedMessage m;
  sc::decode::decode_message(*def, b, {}, m);
  ASSERT_EQ(m.diagnostics.size(), 1u);
  EXPECT_EQ(m.diagnostics[0].code, "truncated");
  EXPECT_EQ(m.diagnostics[0].offset, 8u);
  EXPECT_EQ(m.diagnostics[0].path, "main.init.supported_mouse_modes");
  EXPECT_FALSE(m.complete);
  EXPECT_EQ(m.values.size(), 3u);  // the struct and the two fields that were there
}

TEST(Messages, HostileCountIsRefusedWithoutAllocating) {
  const auto* def = msg(SPICE_CHANNEL_DISPLAY, Direction::S2C, SPICE_MSG_DISPLAY_MONITORS_CONFIG);
  Bytes b = le({{0xffff, 2}, {1, 2}});
  sc::decode::DecodedMessage m;
  sc::decode::decode_message(*def, b, {}, m);
  ASSERT_EQ(m.diagnostics.size(), 1u);
  EXPECT_EQ(m.diagnostics[0].code, "bad_count");
}

TEST(Messages, WildPointerIsReported) {
  const auto* def = msg(SPICE_CHANNEL_PORT, Direction::S2C, SPICE_MSG_PORT_INIT);
  Bytes b = le({{5, 4}, {1000, 4}, {1, 1}});
  sc::decode::DecodedMessage m;
  sc::decode::decode_message(*def, b, {}, m);
  ASSERT_FALSE(m.diagnostics.empty());
  EXPECT_EQ(m.diagnostics[0].code, "bad_pointer");
}

}  // namespace

namespace {

TEST(Messages, SubMessageListOfAFullHeaderMessage) {
  // inval_palette {id=9}, then the list: 2 entries -> mark {} and inval_palette {id=5}
  Bytes body = le({{9, 8}});
  const uint32_t list_at = static_cast<uint32_t>(body.size());
  const uint32_t first = list_at + 2 + 8;
  const uint32_t second = first + 6;
  append(body, le({{2, 2}, {first, 4}, {second, 4}}));
  append(body, le({{SPICE_MSG_DISPLAY_MARK, 2}, {0, 4}}));
  append(body, le({{SPICE_MSG_DISPLAY_INVAL_PALETTE, 2}, {8, 4}, {5, 8}}));
  auto subs = sc::decode::decode_sub_messages(SPICE_CHANNEL_DISPLAY, Direction::S2C, body, list_at, {});
  ASSERT_TRUE(subs.diagnostics.empty());
  ASSERT_EQ(subs.items.size(), 2u);
  EXPECT_EQ(subs.items[0].def->full_name, "display.mark");
  EXPECT_EQ(subs.items[1].def->full_name, "display.inval_palette");
  std::string json;
  sc::decode::append_sub_messages_json(subs, json, {});
  auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j[1]["fields"]["id"], 5);
  // A list pointing outside the body is a located problem, not a crash.
  auto bad = sc::decode::decode_sub_messages(SPICE_CHANNEL_DISPLAY, Direction::S2C, body, 1000, {});
  ASSERT_EQ(bad.diagnostics.size(), 1u);
  EXPECT_EQ(bad.diagnostics[0].code, "bad_sub_list");
}

}  // namespace

namespace {

// ---- image payload headers -------------------------------------------------------

void put_be(Bytes& out, uint64_t v, int width) {
  for (int i = width; i-- > 0;) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

nlohmann::json src_bitmap(const Bytes& body) {
  return decode_json(SPICE_CHANNEL_DISPLAY, Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY, body)["data"]["src_bitmap"];
}

// lz.c: magic, version, type, width, height, stride, top_down; 32 bits each, most
// significant byte first.
Bytes lz_header(uint32_t type, uint32_t width, uint32_t height, uint32_t stride, uint32_t top_down) {
  Bytes b;
  for (uint32_t w : {0x20205a4cu, 0x00010001u, type, width, height, stride, top_down}) put_be(b, w, 4);
  return b;
}

TEST(Messages, LzImageHeaderIsBigEndianBesideTheWholePayload) {
  Bytes payload = lz_header(8 /* RGB32 */, 3, 2, 12, 1);
  append(payload, Bytes{0xde, 0xad});  // compressed data follows the header
  const Bytes body = draw_copy(SPICE_IMAGE_TYPE_LZ_RGB, "lz_rgb", {{"data", hex(payload)}});
  const auto img = src_bitmap(body);
  // The bytes stay what they were: the whole payload.
  EXPECT_EQ(img["lz_rgb"]["data_size"], payload.size());
  EXPECT_EQ(img["lz_rgb"]["data"], hex(payload));
  const auto& lz = img["lz_rgb"]["data.lz"];
  EXPECT_EQ(lz["magic"], 0x20205a4cu);
  EXPECT_EQ(lz["version"], 0x00010001u);
  EXPECT_EQ(lz["type"], 8);
  EXPECT_EQ(lz["width"], 3);
  EXPECT_EQ(lz["height"], 2);
  EXPECT_EQ(lz["stride"], 12);
  EXPECT_EQ(lz["top_down"], 1);
  EXPECT_FALSE(img["lz_rgb"].contains("data.glz"));

  // The decoded values: the bytes' value is unchanged, the header nests under it.
  sc::decode::DecodedMessage m;
  sc::decode::decode_message(*msg(SPICE_CHANNEL_DISPLAY, Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY), body, {}, m);
  ASSERT_TRUE(m.complete);
  const auto* data = m.find("display.draw_copy.data.src_bitmap.lz_rgb.data");
  const auto* width = m.find("display.draw_copy.data.src_bitmap.lz_rgb.data.lz.width");
  ASSERT_NE(data, nullptr);
  ASSERT_NE(width, nullptr);
  EXPECT_EQ(data->size, payload.size());
  EXPECT_EQ(data->number, payload.size());
  EXPECT_EQ(width->offset, data->offset + 12);
  EXPECT_EQ(m.values[width->parent].parent, static_cast<uint32_t>(data - m.values.data()));
}

TEST(Messages, GlzHeaderPacksTypeAndTopDownAndNamesTheDictionaryImage) {
  // glz-encoder.c: magic, version (32 bits), type | top_down << 4 (8 bits), width,
  // height, stride (32), image id (64), distance to the window head (32).
  Bytes payload;
  put_be(payload, 0x20205a4c, 4);
  put_be(payload, 0x00010001, 4);
  payload.push_back(0x18);  // RGB32, top-down
  put_be(payload, 640, 4);
  put_be(payload, 480, 4);
  put_be(payload, 2560, 4);
  put_be(payload, 0x0000000100000203ull, 8);
  put_be(payload, 5, 4);
  const auto img = src_bitmap(draw_copy(SPICE_IMAGE_TYPE_GLZ_RGB, "lz_rgb", {{"data", hex(payload)}}));
  const auto& glz = img["lz_rgb"]["data.glz"];
  EXPECT_EQ(glz["type_flags"], 0x18);
  EXPECT_EQ(glz["width"], 640);
  EXPECT_EQ(glz["height"], 480);
  EXPECT_EQ(glz["stride"], 2560);
  EXPECT_EQ(glz["id"], 0x0000000100000203ull);
  EXPECT_EQ(glz["win_head_dist"], 5);
  EXPECT_FALSE(img["lz_rgb"].contains("data.lz"));
}

TEST(Messages, QuicHeaderIsLittleEndianWords) {
  const Bytes payload = le({{0x43495551, 4}, {0, 4}, {4 /* RGB32 */, 4}, {640, 4}, {480, 4}, {0xffffffff, 4}});
  const auto quic = src_bitmap(draw_copy(SPICE_IMAGE_TYPE_QUIC, "quic", {{"data", hex(payload)}}))["quic"]["data.quic"];
  EXPECT_EQ(quic["magic"], 0x43495551u);
  EXPECT_EQ(quic["type"], 4);
  EXPECT_EQ(quic["width"], 640);
  EXPECT_EQ(quic["height"], 480);
}

TEST(Messages, Lz4BlocksRunToTheEndOfThePayload) {
  // canvas_base.c: top_down, bitmap format, then blocks of (big-endian size, data).
  Bytes payload{1, SPICE_BITMAP_FMT_32BIT};
  put_be(payload, 3, 4);
  append(payload, Bytes{1, 2, 3});
  put_be(payload, 1, 4);
  payload.push_back(9);
  const auto lz4 = src_bitmap(draw_copy(SPICE_IMAGE_TYPE_LZ4, "lz4", {{"data", hex(payload)}}))["lz4"]["data.lz4"];
  EXPECT_EQ(lz4["top_down"], 1);
  EXPECT_EQ(lz4["format"], SPICE_BITMAP_FMT_32BIT);
  ASSERT_EQ(lz4["chunks"].size(), 2u);
  EXPECT_EQ(lz4["chunks"][0]["size"], 3);
  EXPECT_EQ(lz4["chunks"][0]["data"], "010203");
  EXPECT_EQ(lz4["chunks"][1]["data"], "09");
}

TEST(Messages, JpegAlphaIsAJpegThenAnLzAlphaPlane) {
  Bytes payload{0xff, 0xd8, 0xff, 0xd9};
  append(payload, lz_header(10 /* XXXA */, 3, 2, 3, 0));
  const auto img = src_bitmap(
      draw_copy(SPICE_IMAGE_TYPE_JPEG_ALPHA, "jpeg_alpha", {{"flags", 0}, {"jpeg_size", 4}, {"data", hex(payload)}}));
  EXPECT_EQ(img["jpeg_alpha"]["data.jpeg"], "ffd8ffd9");
  EXPECT_EQ(img["jpeg_alpha"]["data.lz"]["type"], 10);
  EXPECT_EQ(img["jpeg_alpha"]["data.lz"]["stride"], 3);
  const auto jpeg = src_bitmap(draw_copy(SPICE_IMAGE_TYPE_JPEG, "jpeg", {{"data", "ffd8ffe0"}}));
  EXPECT_EQ(jpeg["jpeg"]["data.jpeg"]["soi"], 0xffd8);
  const auto zlib = src_bitmap(
      draw_copy(SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB, "zlib_glz", {{"glz_data_size", 100}, {"data", "789c0102"}}));
  EXPECT_EQ(zlib["zlib_glz"]["data.zlib"]["cmf"], 0x78);
  EXPECT_EQ(zlib["zlib_glz"]["data.zlib"]["flg"], 0x9c);
}

TEST(Messages, PayloadTooShortForItsHeaderIsAWarningAndTheMessageGoesOn) {
  const Bytes body = draw_copy(SPICE_IMAGE_TYPE_LZ_RGB, "lz_rgb", {{"data", "2020"}});
  sc::decode::DecodedMessage m;
  sc::decode::decode_message(*msg(SPICE_CHANNEL_DISPLAY, Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY), body, {}, m);
  ASSERT_EQ(m.diagnostics.size(), 1u);
  EXPECT_EQ(m.diagnostics[0].severity, sc::decode::Severity::Warning);
  EXPECT_EQ(m.diagnostics[0].code, "truncated");
  EXPECT_EQ(m.diagnostics[0].path, "display.draw_copy.data.src_bitmap.lz_rgb.data.lz.magic");
  EXPECT_TRUE(m.complete);
  // Everything after the payload still decoded.
  ASSERT_NE(m.find("display.draw_copy.data.mask.flags"), nullptr);
  EXPECT_EQ(m.find("display.draw_copy.data.src_bitmap.lz_rgb.data")->size, 2u);
}

}  // namespace
