// The display channel: surfaces, draw commands, images, video streams.
//
// Draw commands are described down to image headers, and each compressed image's
// payload down to its codec's own header (payload hooks: the bytes stay whole,
// the header is described over their start); the compressed data itself is kept
// as bytes (its decoders live beside the display-state code).
#include <spice/enums.h>
#include <spice/protocol.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

namespace {

struct DisplayNames {
  const ValueNames* image_type;
  const ValueNames* image_flags;
  const ValueNames* bitmap_fmt;
  const ValueNames* bitmap_flags;
  const ValueNames* brush_type;
  const ValueNames* mask_flags;
  const ValueNames* ropd;
  const ValueNames* scale_mode;
  const ValueNames* path_flags;
  const ValueNames* line_flags;
  const ValueNames* string_flags;
  const ValueNames* surface_fmt;
  const ValueNames* surface_flags;
  const ValueNames* stream_flags;
  const ValueNames* alpha_flags;
  const ValueNames* composite_flags;
  const ValueNames* resource_type;
  const ValueNames* gl_scanout_flags;
};

DisplayNames display_names(Builder& b) {
  DisplayNames n{};
  n.image_type = b.names(
      "image_type", false, "SPICE_IMAGE_TYPE_",
      {SC_SYM(SPICE_IMAGE_TYPE_BITMAP), SC_SYM(SPICE_IMAGE_TYPE_QUIC), SC_SYM(SPICE_IMAGE_TYPE_RESERVED),
       SC_SYM(SPICE_IMAGE_TYPE_LZ_PLT), SC_SYM(SPICE_IMAGE_TYPE_LZ_RGB), SC_SYM(SPICE_IMAGE_TYPE_GLZ_RGB),
       SC_SYM(SPICE_IMAGE_TYPE_FROM_CACHE), SC_SYM(SPICE_IMAGE_TYPE_SURFACE), SC_SYM(SPICE_IMAGE_TYPE_JPEG),
       SC_SYM(SPICE_IMAGE_TYPE_FROM_CACHE_LOSSLESS), SC_SYM(SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB),
       SC_SYM(SPICE_IMAGE_TYPE_JPEG_ALPHA), SC_SYM(SPICE_IMAGE_TYPE_LZ4)});
  n.image_flags = b.names("image_flags", true, "SPICE_IMAGE_FLAGS_",
                          {SC_SYM(SPICE_IMAGE_FLAGS_CACHE_ME), SC_SYM(SPICE_IMAGE_FLAGS_HIGH_BITS_SET),
                           SC_SYM(SPICE_IMAGE_FLAGS_CACHE_REPLACE_ME)});
  n.bitmap_fmt = b.names(
      "bitmap_fmt", false, "SPICE_BITMAP_FMT_",
      {SC_SYM(SPICE_BITMAP_FMT_INVALID), SC_SYM(SPICE_BITMAP_FMT_1BIT_LE), SC_SYM(SPICE_BITMAP_FMT_1BIT_BE),
       SC_SYM(SPICE_BITMAP_FMT_4BIT_LE), SC_SYM(SPICE_BITMAP_FMT_4BIT_BE), SC_SYM(SPICE_BITMAP_FMT_8BIT),
       SC_SYM(SPICE_BITMAP_FMT_16BIT), SC_SYM(SPICE_BITMAP_FMT_24BIT), SC_SYM(SPICE_BITMAP_FMT_32BIT),
       SC_SYM(SPICE_BITMAP_FMT_RGBA), SC_SYM(SPICE_BITMAP_FMT_8BIT_A)});
  n.bitmap_flags = b.names("bitmap_flags", true, "SPICE_BITMAP_FLAGS_",
                           {SC_SYM(SPICE_BITMAP_FLAGS_PAL_CACHE_ME), SC_SYM(SPICE_BITMAP_FLAGS_PAL_FROM_CACHE),
                            SC_SYM(SPICE_BITMAP_FLAGS_TOP_DOWN)});
  n.brush_type = b.names("brush_type", false, "SPICE_BRUSH_TYPE_",
                         {SC_SYM(SPICE_BRUSH_TYPE_NONE), SC_SYM(SPICE_BRUSH_TYPE_SOLID), SC_SYM(SPICE_BRUSH_TYPE_PATTERN)});
  n.mask_flags = b.names("mask_flags", true, "SPICE_MASK_FLAGS_", {SC_SYM(SPICE_MASK_FLAGS_INVERS)});
  n.ropd = b.names("ropd", true, "SPICE_ROPD_",
                   {SC_SYM(SPICE_ROPD_INVERS_SRC), SC_SYM(SPICE_ROPD_INVERS_BRUSH), SC_SYM(SPICE_ROPD_INVERS_DEST),
                    SC_SYM(SPICE_ROPD_OP_PUT), SC_SYM(SPICE_ROPD_OP_OR), SC_SYM(SPICE_ROPD_OP_AND),
                    SC_SYM(SPICE_ROPD_OP_XOR), SC_SYM(SPICE_ROPD_OP_BLACKNESS), SC_SYM(SPICE_ROPD_OP_WHITENESS),
                    SC_SYM(SPICE_ROPD_OP_INVERS), SC_SYM(SPICE_ROPD_INVERS_RES)});
  n.scale_mode = b.names("image_scale_mode", false, "SPICE_IMAGE_SCALE_MODE_",
                         {SC_SYM(SPICE_IMAGE_SCALE_MODE_INTERPOLATE), SC_SYM(SPICE_IMAGE_SCALE_MODE_NEAREST)});
  n.path_flags = b.names("path_flags", true, "SPICE_PATH_",
                         {SC_SYM(SPICE_PATH_BEGIN), SC_SYM(SPICE_PATH_END), SC_SYM(SPICE_PATH_CLOSE),
                          SC_SYM(SPICE_PATH_BEZIER)});
  n.line_flags = b.names("line_flags", true, "SPICE_LINE_FLAGS_",
                         {SC_SYM(SPICE_LINE_FLAGS_START_WITH_GAP), SC_SYM(SPICE_LINE_FLAGS_STYLED)});
  n.string_flags = b.names("string_flags", true, "SPICE_STRING_FLAGS_",
                           {SC_SYM(SPICE_STRING_FLAGS_RASTER_A1), SC_SYM(SPICE_STRING_FLAGS_RASTER_A4),
                            SC_SYM(SPICE_STRING_FLAGS_RASTER_A8), SC_SYM(SPICE_STRING_FLAGS_RASTER_TOP_DOWN)});
  n.surface_fmt = b.names("surface_fmt", false, "SPICE_SURFACE_FMT_",
                          {SC_SYM(SPICE_SURFACE_FMT_INVALID), SC_SYM(SPICE_SURFACE_FMT_1_A), SC_SYM(SPICE_SURFACE_FMT_8_A),
                           SC_SYM(SPICE_SURFACE_FMT_16_555), SC_SYM(SPICE_SURFACE_FMT_32_xRGB),
                           SC_SYM(SPICE_SURFACE_FMT_16_565), SC_SYM(SPICE_SURFACE_FMT_32_ARGB)});
  n.surface_flags = b.names("surface_flags", true, "SPICE_SURFACE_FLAGS_",
                            {SC_SYM(SPICE_SURFACE_FLAGS_PRIMARY), SC_SYM(SPICE_SURFACE_FLAGS_STREAMING_MODE)});
  n.stream_flags = b.names("stream_flags", true, "SPICE_STREAM_FLAGS_", {SC_SYM(SPICE_STREAM_FLAGS_TOP_DOWN)});
  n.alpha_flags = b.names("alpha_flags", true, "SPICE_ALPHA_FLAGS_",
                          {SC_SYM(SPICE_ALPHA_FLAGS_DEST_HAS_ALPHA), SC_SYM(SPICE_ALPHA_FLAGS_SRC_SURFACE_HAS_ALPHA)});
  n.composite_flags = b.names(
      "composite_flags", true, "SPICE_COMPOSITE_",
      {SC_SYM(SPICE_COMPOSITE_HAS_MASK), SC_SYM(SPICE_COMPOSITE_HAS_SRC_TRANSFORM),
       SC_SYM(SPICE_COMPOSITE_HAS_MASK_TRANSFORM), SC_SYM(SPICE_COMPOSITE_COMPONENT_ALPHA),
       SC_SYM(SPICE_COMPOSITE_SOURCE_OPAQUE), SC_SYM(SPICE_COMPOSITE_MASK_OPAQUE), SC_SYM(SPICE_COMPOSITE_DEST_OPAQUE)});
  n.resource_type = b.names("resource_type", false, "SPICE_RES_TYPE_",
                            {SC_SYM(SPICE_RES_TYPE_INVALID), SC_SYM(SPICE_RES_TYPE_PIXMAP)});
  n.gl_scanout_flags = b.names("gl_scanout_flags", true, "SPICE_GL_SCANOUT_FLAGS_", {SC_SYM(SPICE_GL_SCANOUT_FLAGS_Y0TOP)});
  return n;
}

// The codec headers at the start of image payloads. The numbers are spice-common's
// (lz_common.h, quic.c) and spice-server's (glz-encoder.c); spice-protocol has no
// names for them, so they are named here.
struct CodecHeaders {
  const Type* quic;
  const Type* lz;
  const Type* glz;
  const Type* lz4;
  const Type* jpeg;
  const Type* zlib;
};

CodecHeaders codec_headers(Builder& b, const DisplayNames& n) {
  const auto* quic_type = b.names("quic_image_type", false, "QUIC_IMAGE_TYPE_",
                                  {{0, "QUIC_IMAGE_TYPE_INVALID"}, {1, "QUIC_IMAGE_TYPE_GRAY"},
                                   {2, "QUIC_IMAGE_TYPE_RGB16"}, {3, "QUIC_IMAGE_TYPE_RGB24"},
                                   {4, "QUIC_IMAGE_TYPE_RGB32"}, {5, "QUIC_IMAGE_TYPE_RGBA"}});
  const auto* lz_type = b.names(
      "lz_image_type", false, "LZ_IMAGE_TYPE_",
      {{0, "LZ_IMAGE_TYPE_INVALID"}, {1, "LZ_IMAGE_TYPE_PLT1_LE"}, {2, "LZ_IMAGE_TYPE_PLT1_BE"},
       {3, "LZ_IMAGE_TYPE_PLT4_LE"}, {4, "LZ_IMAGE_TYPE_PLT4_BE"}, {5, "LZ_IMAGE_TYPE_PLT8"},
       {6, "LZ_IMAGE_TYPE_RGB16"}, {7, "LZ_IMAGE_TYPE_RGB24"}, {8, "LZ_IMAGE_TYPE_RGB32"},
       {9, "LZ_IMAGE_TYPE_RGBA"}, {10, "LZ_IMAGE_TYPE_XXXA"}, {11, "LZ_IMAGE_TYPE_A8"}});
  CodecHeaders h{};
  // QUIC is a stream of little-endian 32-bit words from its first byte on.
  h.quic = b.structure("QuicHeader", {b.u32("magic"), b.u32("version"), b.u32("type", quic_type), b.u32("width"),
                                      b.u32("height")});
  // LZ writes its header words most significant byte first.
  h.lz = b.structure("LzHeader", {b.u32be("magic"), b.u32be("version"), b.u32be("type", lz_type), b.u32be("width"),
                                  b.u32be("height"), b.u32be("stride"), b.u32be("top_down")});
  // GLZ packs the LZ image type (low four bits) and top-down (0x10) into one byte,
  // and names the image in the shared dictionary. Its encoder keeps only the low
  // 24 bits of the id's low word, so ids past 2^24 do not read back whole.
  h.glz = b.structure("GlzHeader", {b.u32be("magic"), b.u32be("version"), b.u8("type_flags"), b.u32be("width"),
                                    b.u32be("height"), b.u32be("stride"), b.u64be("id"),
                                    b.u32be("win_head_dist")});
  // LZ4: two bytes, then blocks each preceded by their big-endian size, until the end.
  const Type* lz4_chunk = b.structure("Lz4Chunk", {b.u32be("size"), b.raw("data", by("size"))});
  h.lz4 = b.structure("Lz4Header", {b.u8("top_down"), b.u8("format", n.bitmap_fmt),
                                    b.list("chunks", lz4_chunk, rest())});
  // JPEG and zlib (ZLIB_GLZ_RGB: a GLZ image deflated) are named by their first bytes;
  // a JPEG's frame size sits after a variable run of segments, not at a fixed place.
  h.jpeg = b.structure("JpegHeader", {b.u16be("soi")});
  h.zlib = b.structure("ZlibHeader", {b.u8("cmf"), b.u8("flg")});
  return h;
}

}  // namespace

void describe_display(Builder& b, const Shared& s, const ChannelBuilder& base) {
  const DisplayNames n = display_names(b);
  const Type* u32 = b.integer(IntRep::U32);

  const Type* palette = b.structure("Palette", {b.u64("unique"), b.u16("num_ents"), b.list("ents", u32, by("num_ents"))});
  auto palette_ref = [&] {
    return b.cases("flags", {when_bit(SPICE_BITMAP_FLAGS_PAL_FROM_CACHE, {b.u64("palette_id")}),
                             otherwise({b.ptr("palette", palette)})});
  };
  const Type* bitmap = b.structure("BitmapData", {b.u8("format", n.bitmap_fmt), b.u8("flags", n.bitmap_flags),
                                                  b.u32("x"), b.u32("y"), b.u32("stride"), palette_ref(),
                                                  b.raw("data", raster(8, "stride", "y"))});
  const CodecHeaders codec = codec_headers(b, n);
  // BinaryData whose payload starts with `header`: "<case>.data.<codec>.<field>".
  auto binary = [&](std::vector<Field> header) {
    return b.structure("BinaryData", {b.u32("data_size"), b.payload("data", by("data_size"), std::move(header))});
  };
  const Type* lz_plt = b.structure("LZPLTData", {b.u8("flags", n.bitmap_flags), b.u32("data_size"), palette_ref(),
                                                 b.payload("data", by("data_size"), {b.field("lz", codec.lz)})});
  const Type* zlib_glz = b.structure(
      "ZlibGlzRGBData", {b.u32("glz_data_size"), b.u32("data_size"),
                         b.payload("data", by("data_size"), {b.field("zlib", codec.zlib)})});
  // The JPEG image, then the alpha plane LZ-compressed (type XXXA).
  const Type* jpeg_alpha = b.structure(
      "JPEGAlphaData", {b.u8("flags"), b.u32("jpeg_size"), b.u32("data_size"),
                        b.payload("data", by("data_size"), {b.raw("jpeg", by("jpeg_size")), b.field("lz", codec.lz)})});
  const Type* descriptor = b.structure("ImageDescriptor", {b.u64("id"), b.u8("type", n.image_type),
                                                           b.u8("flags", n.image_flags), b.u32("width"), b.u32("height")});
  const Type* image = b.structure(
      "Image",
      {b.field("descriptor", descriptor),
       b.cases("descriptor.type",
               {when(SPICE_IMAGE_TYPE_BITMAP, {b.field("bitmap", bitmap)}),
                when(SPICE_IMAGE_TYPE_QUIC, {b.field("quic", binary({b.field("quic", codec.quic)}))}),
                // One case for both, as spice.proto has it; the header tells them apart.
                when_any({SPICE_IMAGE_TYPE_LZ_RGB, SPICE_IMAGE_TYPE_GLZ_RGB},
                         {b.field("lz_rgb", binary({b.cases("descriptor.type",
                                                            {when(SPICE_IMAGE_TYPE_LZ_RGB, {b.field("lz", codec.lz)}),
                                                             when(SPICE_IMAGE_TYPE_GLZ_RGB,
                                                                  {b.field("glz", codec.glz)})})}))}),
                when(SPICE_IMAGE_TYPE_JPEG, {b.field("jpeg", binary({b.field("jpeg", codec.jpeg)}))}),
                when(SPICE_IMAGE_TYPE_LZ4, {b.field("lz4", binary({b.field("lz4", codec.lz4)}))}),
                when(SPICE_IMAGE_TYPE_LZ_PLT, {b.field("lz_plt", lz_plt)}),
                when(SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB, {b.field("zlib_glz", zlib_glz)}),
                when(SPICE_IMAGE_TYPE_JPEG_ALPHA, {b.field("jpeg_alpha", jpeg_alpha)}),
                when(SPICE_IMAGE_TYPE_SURFACE, {b.u32("surface_id")})})});

  const Type* pattern = b.structure("Pattern", {b.ptr("pat", image), b.field("pos", s.point)});
  const Type* brush = b.structure(
      "Brush", {b.u8("type", n.brush_type),
                b.cases("type", {when(SPICE_BRUSH_TYPE_SOLID, {b.u32("color")}),
                                 when(SPICE_BRUSH_TYPE_PATTERN, {b.field("pattern", pattern)})})});
  const Type* mask = b.structure("QMask", {b.u8("flags", n.mask_flags), b.field("pos", s.point), b.ptr("bitmap", image)});
  const Type* display_base = b.structure("DisplayBase", {b.u32("surface_id"), b.field("box", s.rect),
                                                         b.field("clip", s.clip)});
  const Type* point_fix = b.structure("PointFix", {b.i32("x"), b.i32("y")});
  const Type* path_segment = b.structure("PathSegment", {b.u8("flags", n.path_flags), b.u32("count"),
                                                         b.list("points", point_fix, by("count"))});
  const Type* path = b.structure("Path", {b.u32("num_segments"), b.list("segments", path_segment, by("num_segments"))});
  const Type* line_attr = b.structure(
      "LineAttr", {b.u8("flags", n.line_flags),
                   b.cases("flags", {when_bit(SPICE_LINE_FLAGS_STYLED, {b.u8("style_nseg")})}),
                   b.cases("flags", {when_bit(SPICE_LINE_FLAGS_STYLED,
                                              {b.ptr("style", b.array(b.integer(IntRep::I32), by("style_nseg")))})})});
  auto glyph = [&](uint32_t bits) {
    return b.structure("RasterGlyph", {b.field("render_pos", s.point), b.field("glyph_origin", s.point),
                                       b.u16("width"), b.u16("height"), b.raw("data", raster(bits, "width", "height"))});
  };
  const Type* string = b.structure(
      "String", {b.u16("length"), b.u8("flags", n.string_flags),
                 b.cases("flags", {when_bit(SPICE_STRING_FLAGS_RASTER_A1, {b.list("glyphs", glyph(1), by("length"))}),
                                   when_bit(SPICE_STRING_FLAGS_RASTER_A4, {b.list("glyphs", glyph(4), by("length"))}),
                                   when_bit(SPICE_STRING_FLAGS_RASTER_A8, {b.list("glyphs", glyph(8), by("length"))})})});
  const Type* transform = b.structure("Transform", {b.u32("t00"), b.u32("t01"), b.u32("t02"), b.u32("t10"),
                                                    b.u32("t11"), b.u32("t12")});
  const Type* stream_header = b.structure("StreamDataHeader", {b.u32("id"), b.u32("multi_media_time").vol()});
  const Type* head = b.structure("Head", {b.u32("monitor_id"), b.u32("surface_id"), b.u32("width"), b.u32("height"),
                                          b.u32("x"), b.u32("y"), b.u32("flags")});
  const Type* resource = b.structure("ResourceID", {b.u8("type", n.resource_type), b.u64("id")});

  // Every draw command is the common DisplayBase followed by its own data.
  auto draw = [&](std::string name, std::vector<Field> data) {
    return std::vector<Field>{b.field("base", display_base), b.field("data", b.structure(std::move(name), std::move(data)))};
  };
  auto copy_like = [&](std::string name) {
    return draw(std::move(name), {b.ptr("src_bitmap", image), b.field("src_area", s.rect),
                                  b.u16("rop_descriptor", n.ropd), b.u8("scale_mode", n.scale_mode),
                                  b.field("mask", mask)});
  };

  auto& d = b.channel(SPICE_CHANNEL_DISPLAY, "display",
                      {"SPICE_MSG_DISPLAY_", "SPICE_MSGC_DISPLAY_", "SPICE_MSG_", "SPICE_MSGC_"});
  d.inherit(base);
  d.caps({SC_SYM(SPICE_DISPLAY_CAP_SIZED_STREAM), SC_SYM(SPICE_DISPLAY_CAP_MONITORS_CONFIG),
          SC_SYM(SPICE_DISPLAY_CAP_COMPOSITE), SC_SYM(SPICE_DISPLAY_CAP_A8_SURFACE),
          SC_SYM(SPICE_DISPLAY_CAP_STREAM_REPORT), SC_SYM(SPICE_DISPLAY_CAP_LZ4_COMPRESSION),
          SC_SYM(SPICE_DISPLAY_CAP_PREF_COMPRESSION), SC_SYM(SPICE_DISPLAY_CAP_GL_SCANOUT),
          SC_SYM(SPICE_DISPLAY_CAP_MULTI_CODEC), SC_SYM(SPICE_DISPLAY_CAP_CODEC_MJPEG),
          SC_SYM(SPICE_DISPLAY_CAP_CODEC_VP8), SC_SYM(SPICE_DISPLAY_CAP_CODEC_H264),
          SC_SYM(SPICE_DISPLAY_CAP_PREF_VIDEO_CODEC_TYPE), SC_SYM(SPICE_DISPLAY_CAP_CODEC_VP9),
          SC_SYM(SPICE_DISPLAY_CAP_CODEC_H265)},
         "SPICE_DISPLAY_CAP_");

  d.s2c(SC_SYM(SPICE_MSG_DISPLAY_MODE), {b.u32("x_res"), b.u32("y_res"), b.u32("bits")})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_MARK), {})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_RESET), {})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_COPY_BITS), {b.field("base", display_base), b.field("src_pos", s.point)})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_INVAL_LIST), {b.u16("count"), b.list("resources", resource, by("count"))})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS),
           {b.u8("wait_count"), b.list("wait_list", s.channel_wait, by("wait_count"))})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_INVAL_PALETTE), {b.u64("id")})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES), {})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_STREAM_CREATE),
           {b.u32("surface_id"), b.u32("id"), b.u8("flags", n.stream_flags), b.u8("codec_type", s.video_codec),
            b.u64("stamp").vol(), b.u32("stream_width"), b.u32("stream_height"), b.u32("src_width"),
            b.u32("src_height"), b.field("dest", s.rect), b.field("clip", s.clip)})
      // A frame's codec is the one its stream_create announced: that is state,
      // which a message's description cannot reach, so frames stay bytes.
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_STREAM_DATA),
           {b.field("base", stream_header), b.u32("data_size"), b.raw("data", by("data_size"))})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_STREAM_CLIP), {b.u32("id"), b.field("clip", s.clip)})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_STREAM_DESTROY), {b.u32("id")})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_STREAM_DESTROY_ALL), {})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_FILL),
           draw("Fill", {b.field("brush", brush), b.u16("rop_descriptor", n.ropd), b.field("mask", mask)}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_OPAQUE),
           draw("Opaque", {b.ptr("src_bitmap", image), b.field("src_area", s.rect), b.field("brush", brush),
                           b.u16("rop_descriptor", n.ropd), b.u8("scale_mode", n.scale_mode), b.field("mask", mask)}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_COPY), copy_like("Copy"))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_BLEND), copy_like("Blend"))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_BLACKNESS), draw("Blackness", {b.field("mask", mask)}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_WHITENESS), draw("Whiteness", {b.field("mask", mask)}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_INVERS), draw("Invers", {b.field("mask", mask)}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_ROP3),
           draw("Rop3", {b.ptr("src_bitmap", image), b.field("src_area", s.rect), b.field("brush", brush),
                         b.u8("rop3"), b.u8("scale_mode", n.scale_mode), b.field("mask", mask)}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_STROKE),
           draw("Stroke", {b.ptr("path", path), b.field("attr", line_attr), b.field("brush", brush),
                           b.u16("fore_mode"), b.u16("back_mode")}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_TEXT),
           draw("Text", {b.ptr("str", string), b.field("back_area", s.rect), b.field("fore_brush", brush),
                         b.field("back_brush", brush), b.u16("fore_mode"), b.u16("back_mode")}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_TRANSPARENT),
           draw("Transparent", {b.ptr("src_bitmap", image), b.field("src_area", s.rect), b.u32("src_color"),
                                b.u32("true_color")}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND),
           draw("AlphaBlend", {b.u8("alpha_flags", n.alpha_flags), b.u8("alpha"), b.ptr("src_bitmap", image),
                               b.field("src_area", s.rect)}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_SURFACE_CREATE),
           {b.u32("surface_id"), b.u32("width"), b.u32("height"), b.u32("format", n.surface_fmt),
            b.u32("flags", n.surface_flags)})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_SURFACE_DESTROY), {b.u32("surface_id")})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_STREAM_DATA_SIZED),
           {b.field("base", stream_header), b.u32("width"), b.u32("height"), b.field("dest", s.rect),
            b.u32("data_size"), b.raw("data", by("data_size"))})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_MONITORS_CONFIG),
           {b.u16("count"), b.u16("max_allowed"), b.list("heads", head, by("count"))})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_DRAW_COMPOSITE),
           draw("Composite",
                {b.u32("flags", n.composite_flags), b.ptr("src_bitmap", image),
                 b.cases("flags", {when_bit(SPICE_COMPOSITE_HAS_MASK, {b.ptr("mask_bitmap", image)})}),
                 b.cases("flags", {when_bit(SPICE_COMPOSITE_HAS_SRC_TRANSFORM, {b.field("src_transform", transform)})}),
                 b.cases("flags", {when_bit(SPICE_COMPOSITE_HAS_MASK_TRANSFORM, {b.field("mask_transform", transform)})}),
                 b.field("src_origin", s.point16), b.field("mask_origin", s.point16)}))
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_STREAM_ACTIVATE_REPORT),
           {b.u32("stream_id"), b.u32("unique_id"), b.u32("max_window_size"), b.u32("timeout_ms")})
      // The dma-buf descriptor travels as ancillary data on a Unix socket, not in the bytes.
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_GL_SCANOUT_UNIX),
           {b.u32("width"), b.u32("height"), b.u32("stride"), b.u32("drm_fourcc_format"),
            b.u32("flags", n.gl_scanout_flags)})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_GL_DRAW), {b.u32("x"), b.u32("y"), b.u32("w"), b.u32("h")})
      .s2c(SC_SYM(SPICE_MSG_DISPLAY_QUALITY_INDICATOR), {b.raw("data", rest())});

  d.c2s(SC_SYM(SPICE_MSGC_DISPLAY_INIT),
        {b.u8("pixmap_cache_id"), b.i64("pixmap_cache_size"), b.u8("glz_dictionary_id"),
         b.i32("glz_dictionary_window_size")})
      .c2s(SC_SYM(SPICE_MSGC_DISPLAY_STREAM_REPORT),
           {b.u32("stream_id"), b.u32("unique_id"), b.u32("start_frame_mm_time").vol(),
            b.u32("end_frame_mm_time").vol(), b.u32("num_frames"), b.u32("num_drops"), b.i32("last_frame_delay"),
            b.u32("audio_delay")})
      .c2s(SC_SYM(SPICE_MSGC_DISPLAY_PREFERRED_COMPRESSION), {b.u8("image_compression", s.image_compression)})
      .c2s(SC_SYM(SPICE_MSGC_DISPLAY_GL_DRAW_DONE), {})
      .c2s(SC_SYM(SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE),
           {b.u8("num_of_codecs"), b.list("codecs", b.integer(IntRep::U8, s.video_codec), by("num_of_codecs"))});
}

}  // namespace sc::proto
