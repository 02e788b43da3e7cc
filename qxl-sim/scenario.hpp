#pragma once
// Workloads: deterministic generators of drawing ops, one frame at a time.
// Contract: a scenario built with the same name, seed and size yields the same
// op sequence when frame() is called for n = 0, 1, 2, ... in order. Pacing (fps)
// is the driver's business and never changes the sequence.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qxl-sim/ops.hpp"
#include "qxl-sim/rng.hpp"

namespace sc::qxl {

class Scenario {
 public:
  Scenario(uint64_t seed, Size size) : rng_(seed), seed_(seed), size_(size) {}
  virtual ~Scenario() = default;
  Scenario(const Scenario&) = delete;
  Scenario& operator=(const Scenario&) = delete;

  // Primary surface size before the first frame.
  Size initial_size() const { return size_; }
  virtual void frame(uint64_t n, std::vector<Op>& out) = 0;

 protected:
  uint64_t new_image_id() { return ++last_image_id_; }
  static TextOp text(uint32_t surface, int32_t x, int32_t y, std::string s, uint32_t fg,
                     uint32_t bg);

  Rng rng_;
  uint64_t seed_;
  Size size_;

 private:
  uint64_t last_image_id_ = 0;
};

struct ScenarioInfo {
  std::string_view name;
  std::string_view summary;
  Size default_size;
  std::function<std::unique_ptr<Scenario>(uint64_t seed, Size size)> make;
};

// Every scenario, in the order --help lists them.
const std::vector<ScenarioInfo>& scenario_table();
const ScenarioInfo* find_scenario(std::string_view name);
// size {0,0} picks the scenario's default size.
std::unique_ptr<Scenario> make_scenario(std::string_view name, uint64_t seed, Size size = {});

// Hash of the first `frames` frames' op descriptions (determinism checks).
uint64_t sequence_hash(std::string_view name, uint64_t seed, uint64_t frames, Size size = {});

}  // namespace sc::qxl
