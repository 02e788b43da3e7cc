#pragma once
// What the image codec tests share: the real payloads under tests/data/images/<codec>/
// (README.md there says which command made them), their index.tsv rows, and the
// digest the expected pixels are stored as.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "dissect/image/pixels.hpp"
#include "util/sha256.hpp"

namespace sc::test {

using Bytes = std::vector<uint8_t>;

inline std::string image_data_dir(const std::string& codec) {
  return std::string(SC_SOURCE_ROOT) + "/tests/data/images/" + codec + "/";
}

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

inline Bytes image_fixture(const std::string& codec, const std::string& name) {
  return read_bytes(image_data_dir(codec) + name);
}

// index.tsv: one row per fixture, tab-separated columns.
inline std::vector<std::vector<std::string>> image_index(const std::string& codec) {
  std::ifstream in(image_data_dir(codec) + "index.tsv");
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cols;
    std::istringstream s(line);
    for (std::string c; std::getline(s, c, '\t');) cols.push_back(c);
    if (!cols.empty()) rows.push_back(cols);
  }
  EXPECT_FALSE(rows.empty()) << codec;
  return rows;
}

// SHA-256 of the pixel vector as it is in memory (0xAARRGGBB words).
inline std::string pixel_digest(const image::Pixels& p) {
  return util::sha256_hex({reinterpret_cast<const uint8_t*>(p.data.data()), p.data.size() * 4});
}

}  // namespace sc::test
