// Unit tests of the simulator without a server: workload determinism, the
// software canvas, the command builder's QXL structures and the record indexer.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include <spice/enums.h>

#include "qxl-sim/canvas.hpp"
#include "qxl-sim/command_builder.hpp"
#include "qxl-sim/replay.hpp"
#include "qxl-sim/scenario.hpp"
#include "qxl-sim/tone.hpp"

namespace sc::qxl {
namespace {

TEST(Scenario, SameSeedSameSequenceOtherSeedOtherSequence) {
  for (const auto& info : scenario_table()) {
    SCOPED_TRACE(std::string(info.name));
    const uint64_t a = sequence_hash(info.name, 11, 120);
    EXPECT_EQ(a, sequence_hash(info.name, 11, 120));
    if (info.name != "video" && info.name != "cursor") {  // their first frames barely use the RNG
      EXPECT_NE(a, sequence_hash(info.name, 12, 120));
    }
  }
  EXPECT_EQ(make_scenario("no-such-scenario", 1), nullptr);
}

TEST(Scenario, EveryScenarioDrawsInsideItsSurfaces) {
  for (const auto& info : scenario_table()) {
    SCOPED_TRACE(std::string(info.name));
    auto sc = make_scenario(info.name, 5);
    Canvas canvas(sc->initial_size());
    CommandBuilder builder(sc->initial_size());
    std::vector<Op> ops;
    size_t commands = 0;
    for (uint64_t n = 0; n < 200; ++n) {
      ops.clear();
      sc->frame(n, ops);
      for (const Op& op : ops) {
        canvas.apply(op);
        commands += builder.build(op).command != nullptr;
      }
    }
    EXPECT_GT(commands, 20u);
  }
}

TEST(Canvas, FillsBlitsCopyBitsAndSurfaces) {
  Canvas c(Size{16, 8});
  c.apply(FillOp{0, Rect{0, 0, 16, 8}, 0x111111});
  c.apply(FillOp{0, Rect{2, 2, 3, 3}, 0xff0000});
  EXPECT_EQ(c.primary().at(2, 2), 0xff0000u);
  EXPECT_EQ(c.primary().at(5, 2), 0x111111u);
  // Overlapping move to the right by one.
  c.apply(CopyBitsOp{0, Point{2, 2}, Rect{3, 2, 3, 3}});
  EXPECT_EQ(c.primary().at(3, 2), 0xff0000u);
  EXPECT_EQ(c.primary().at(5, 4), 0xff0000u);
  EXPECT_EQ(c.primary().at(2, 2), 0xff0000u);  // source left as it was
  // Offscreen surface copied to the primary.
  c.apply(SurfaceCreateOp{1, Size{4, 4}});
  c.apply(FillOp{1, Rect{0, 0, 4, 4}, 0x00ff00});
  c.apply(SurfaceCopyOp{1, Rect{1, 1, 2, 2}, 0, Point{14, 6}});
  EXPECT_EQ(c.primary().at(15, 7), 0x00ff00u);
  c.apply(SurfaceDestroyOp{1});
  EXPECT_EQ(c.surface(1), nullptr);
  // Clipping: nothing outside the surface is touched, nothing crashes.
  c.apply(FillOp{0, Rect{-5, -5, 100, 3}, 0x0000ff});
  c.apply(ResizeOp{Size{8, 8}});
  EXPECT_EQ(c.primary().size(), (Size{8, 8}));
  EXPECT_EQ(c.primary().at(0, 0), 0u);
}

TEST(CommandBuilder, BuildsQxlStructuresWithReleaseIds) {
  CommandBuilder b(Size{100, 100});
  BuiltCommand fill = b.build(FillOp{0, Rect{10, 20, 30, 40}, 0x123456});
  ASSERT_TRUE(fill.command);
  EXPECT_FALSE(fill.cursor_ring);
  EXPECT_EQ(fill.command->type(), uint32_t(QXL_CMD_DRAW));
  auto* d = reinterpret_cast<QXLDrawable*>(uintptr_t(fill.command->ext().cmd.data));
  EXPECT_EQ(d->type, QXL_DRAW_FILL);
  EXPECT_EQ(d->bbox.left, 10);
  EXPECT_EQ(d->bbox.bottom, 60);
  EXPECT_EQ(d->u.fill.brush.u.color, 0x123456u);
  EXPECT_EQ(d->release_info.id, fill.command->release_id());
  EXPECT_EQ(d->surfaces_dest[0], -1);

  // Fully clipped ops produce no command; partly clipped ones shrink the bbox.
  EXPECT_FALSE(b.build(FillOp{0, Rect{200, 200, 5, 5}, 0}).command);
  BuiltCommand part = b.build(FillOp{0, Rect{90, 90, 20, 20}, 0});
  auto* pd = reinterpret_cast<QXLDrawable*>(uintptr_t(part.command->ext().cmd.data));
  EXPECT_EQ(pd->bbox.right, 100);

  TextOp t;
  t.text = "a b";
  t.back = Rect{0, 0, 24, 12};
  BuiltCommand text = b.build(t);
  auto* td = reinterpret_cast<QXLDrawable*>(uintptr_t(text.command->ext().cmd.data));
  EXPECT_EQ(td->type, QXL_DRAW_TEXT);
  auto* str = reinterpret_cast<QXLString*>(uintptr_t(td->u.text.str));
  EXPECT_EQ(str->length, 2);  // the space has no glyph
  EXPECT_EQ(str->flags & SPICE_STRING_FLAGS_RASTER_A1, SPICE_STRING_FLAGS_RASTER_A1);

  BuiltCommand move = b.build(CursorMoveOp{Point{5, 6}});
  EXPECT_TRUE(move.cursor_ring);
  EXPECT_EQ(move.command->type(), uint32_t(QXL_CMD_CURSOR));
  EXPECT_FALSE(b.build(MonitorsOp{{Rect{0, 0, 10, 10}}}).command);
}

TEST(Tone, IsDeterministicStereoS16) {
  ToneGenerator a(48000), b(48000);
  std::vector<uint32_t> x(480), y(480);
  a.fill(x);
  b.fill(y);
  EXPECT_EQ(x, y);
  EXPECT_EQ(x[10] & 0xffff, x[10] >> 16);  // both channels carry the tone
  EXPECT_NE(x[10], 0u);
}

TEST(RecordIndex, ReadsEventsAndSkipsBlobsBySize) {
  const std::string blob = "event 9 0 1 777\nbinary 0 x 5:";  // a blob that looks like text
  std::string rec = "SPICE_REPLAY 1\nevent 0 1 16 100\nevent 1 0 1 200\ndrawable\nbinary 0 data " +
                    std::to_string(blob.size()) + ":" + blob + "\nevent 2 0 3 350\nevent 3 1 2 400\n";
  std::FILE* f = fmemopen(rec.data(), rec.size(), "rb");
  ASSERT_TRUE(f);
  const RecordIndex idx = index_record(f);
  std::fclose(f);
  EXPECT_TRUE(idx.error.empty()) << idx.error;
  EXPECT_EQ(idx.events, 4u);
  EXPECT_EQ(idx.device_messages, 2u);
  EXPECT_EQ(idx.command_times_ns, (std::vector<uint64_t>{200, 350}));
  EXPECT_EQ(idx.command_types, (std::vector<uint32_t>{1, 3}));

  std::string bad = "NOT A RECORD\n";
  f = fmemopen(bad.data(), bad.size(), "rb");
  EXPECT_FALSE(index_record(f).error.empty());
  std::fclose(f);
}

}  // namespace
}  // namespace sc::qxl
