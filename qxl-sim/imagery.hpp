#pragma once
// Procedural pictures for the workloads. "Natural" images are smooth multi-octave
// noise mapped to landscape-like colours plus grain, so the server's image
// classifier treats them as photographic (QUIC, or JPEG on WAN); "artificial"
// ones are flat shapes that LZ/GLZ compress well. All are pure functions of
// their arguments.
#include <cstdint>

#include "qxl-sim/ops.hpp"

namespace sc::qxl {

ImagePtr natural_image(uint32_t width, uint32_t height, uint64_t seed, uint64_t id);
ImagePtr icon_image(uint32_t size, uint32_t index, uint64_t id);
// One frame of a moving picture: consecutive frames differ everywhere a little.
ImagePtr video_frame(uint32_t width, uint32_t height, uint64_t seed, uint64_t frame, uint64_t id);

CursorShapePtr arrow_cursor_mono(uint64_t unique);
CursorShapePtr ibeam_cursor_mono(uint64_t unique);
CursorShapePtr alpha_cursor(uint16_t size, uint32_t tint, uint64_t unique);

}  // namespace sc::qxl
