#include "util/png.hpp"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>

namespace sc::util {

std::vector<uint8_t> encode_png(uint32_t width, uint32_t height, std::span<const uint32_t> argb, bool alpha) {
  if (width == 0 || height == 0 || argb.size() < size_t{width} * height) return {};
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  // 0xAARRGGBB little-endian is B, G, R, A in memory.
  image.format = alpha ? PNG_FORMAT_BGRA : PNG_FORMAT_BGR;
  std::vector<uint8_t> packed;
  const void* rows = argb.data();
  if (!alpha) {
    packed.resize(size_t{width} * height * 3);
    for (size_t i = 0, n = size_t{width} * height; i < n; ++i) {
      packed[3 * i] = static_cast<uint8_t>(argb[i]);
      packed[3 * i + 1] = static_cast<uint8_t>(argb[i] >> 8);
      packed[3 * i + 2] = static_cast<uint8_t>(argb[i] >> 16);
    }
    rows = packed.data();
  }
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, rows, 0, nullptr)) return {};
  std::vector<uint8_t> out(size);
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, rows, 0, nullptr)) return {};
  out.resize(size);
  return out;
}

Result<void> write_png(const std::string& path, uint32_t width, uint32_t height, std::span<const uint32_t> argb,
                       bool alpha) {
  const auto bytes = encode_png(width, height, argb, alpha);
  if (bytes.empty()) return make_error("cannot encode a " + std::to_string(width) + "x" + std::to_string(height) + " PNG");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return make_error("cannot write " + path);
  return {};
}

namespace {

Result<Picture> read_ppm(const std::string& path, const std::string& bytes) {
  // P6 <ws> width <ws> height <ws> maxval <one ws> data; '#' comments in the header.
  size_t at = 2;
  auto number = [&]() -> std::optional<uint32_t> {
    while (at < bytes.size()) {
      if (bytes[at] == '#') {
        while (at < bytes.size() && bytes[at] != '\n') ++at;
      } else if (std::isspace(static_cast<unsigned char>(bytes[at]))) {
        ++at;
      } else {
        break;
      }
    }
    uint64_t v = 0;
    const size_t start = at;
    while (at < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[at])) && v < (1u << 24)) {
      v = v * 10 + static_cast<uint64_t>(bytes[at++] - '0');
    }
    if (at == start) return std::nullopt;
    return static_cast<uint32_t>(v);
  };
  const auto w = number(), h = number(), max = number();
  if (!w || !h || !max || *max != 255 || *w == 0 || *h == 0 || uint64_t{*w} * *h > (uint64_t{1} << 28)) {
    return make_error(path + ": not a binary PPM of maxval 255");
  }
  ++at;  // the single whitespace after maxval
  const size_t need = size_t{*w} * *h * 3;
  if (bytes.size() < at + need) return make_error(path + ": PPM pixel data cut short");
  Picture p{*w, *h, std::vector<uint32_t>(size_t{*w} * *h)};
  const auto* d = reinterpret_cast<const uint8_t*>(bytes.data() + at);
  for (size_t i = 0; i < p.argb.size(); ++i) {
    p.argb[i] = 0xff000000u | uint32_t{d[3 * i]} << 16 | uint32_t{d[3 * i + 1]} << 8 | d[3 * i + 2];
  }
  return p;
}

}  // namespace

Result<Picture> read_picture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.starts_with("P6")) return read_ppm(path, bytes);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    return make_error(path + ": neither a PNG nor a binary PPM");
  }
  image.format = PNG_FORMAT_BGRA;
  if (uint64_t{image.width} * image.height > (uint64_t{1} << 28)) {
    png_image_free(&image);
    return make_error(path + ": picture too large");
  }
  Picture p{image.width, image.height, std::vector<uint32_t>(size_t{image.width} * image.height)};
  if (!png_image_finish_read(&image, nullptr, p.argb.data(), 0, nullptr)) {
    png_image_free(&image);
    return make_error(path + ": " + image.message);
  }
  return p;
}

}  // namespace sc::util
