// QUIC decoding (see quic.hpp for the format in brief). The layout of this file:
// constants of the format, the Golomb code family of each channel depth, the bit
// reader, the adaptive model (buckets of counters choosing a code per context),
// the row coder (prediction, run lengths, model updates at pseudo-random pixels),
// and the image loop.
#include "dissect/image/quic.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <string>
#include <vector>

namespace sc::image {
namespace {

// ---- constants of the format (quic.c) ---------------------------------------------

constexpr uint32_t kMagic = 0x43495551;  // "QUIC" read as a little-endian word
constexpr uint32_t kVersion = 0;         // major 0 << 16 | minor 0
constexpr size_t kHeaderBytes = 20;      // magic, version, type, width, height

constexpr unsigned kMaxCodes = 8;       // codes (and counters) per bucket
constexpr unsigned kCodeLenLimit = 26;  // longest codeword
constexpr unsigned kWmiMax = 6;         // the wait mask index stops growing here
constexpr uint32_t kWmiNext = 2048;     // pixels coded before it grows by one
// Counter-halving thresholds by wait mask index, for model evolution 3.
constexpr std::array<uint16_t, 11> kTrigger = {110, 550, 900, 800, 550, 400, 350, 250, 140, 160, 140};
// Run-length (MELCODE) coder: log2 of the expected run length in each of its states.
constexpr std::array<uint8_t, 32> kMelcLen = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,  2,  3,  3,  3,  3,
                                              4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15};
// The pseudo-random sequence that spaces model updates; decoder and encoder step it alike.
constexpr std::array<uint32_t, 256> kChaos = {
    0x02c57542, 0x35427717, 0x2f5a2153, 0x9244f155, 0x7bd26d07, 0x354c6052, 0x57329b28, 0x2993868e,
    0x6cd8808c, 0x147b46e0, 0x99db66af, 0xe32b4cac, 0x1b671264, 0x9d433486, 0x62a4c192, 0x06089a4b,
    0x9e3dce44, 0xdaabee13, 0x222425ea, 0xa46f331d, 0xcd589250, 0x8bb81d7f, 0xc8b736b9, 0x35948d33,
    0xd7ac7fd0, 0x5fbe2803, 0x2cfbc105, 0x013dbc4e, 0x7a37820f, 0x39f88e9e, 0xedd58794, 0xc5076689,
    0xfcada5a4, 0x64c2f46d, 0xb3ba3243, 0x8974b4f9, 0x5a05aebd, 0x20afcd00, 0x39e2b008, 0x88a18a45,
    0x600bde29, 0xf3971ace, 0xf37b0a6b, 0x7041495b, 0x70b707ab, 0x06beffbb, 0x4206051f, 0xe13c4ee3,
    0xc1a78327, 0x91aa067c, 0x8295f72a, 0x732917a6, 0x1d871b4d, 0x4048f136, 0xf1840e7e, 0x6a6048c1,
    0x696cb71a, 0x7ff501c3, 0x0fc6310b, 0x57e0f83d, 0x8cc26e74, 0x11a525a2, 0x946934c7, 0x7cd888f0,
    0x8f9d8604, 0x4f86e73b, 0x04520316, 0xdeeea20c, 0xf1def496, 0x67687288, 0xf540c5b2, 0x22401484,
    0x3478658a, 0xc2385746, 0x01979c2c, 0x5dad73c8, 0x0321f58b, 0xf0fedbee, 0x92826ddf, 0x284bec73,
    0x5b1a1975, 0x03df1e11, 0x20963e01, 0xa17cf12b, 0x740d776e, 0xa7a6bf3c, 0x01b5cce4, 0x1118aa76,
    0xfc6fac0a, 0xce927e9b, 0x00bf2567, 0x806f216c, 0xbca69056, 0x795bd3e9, 0xc9dc4557, 0x8929b6c2,
    0x789d52ec, 0x3f3fbf40, 0xb9197368, 0xa38c15b5, 0xc3b44fa8, 0xca8333b0, 0xb7e8d590, 0xbe807feb,
    0xbf5f8360, 0xd99e2f5c, 0x372928e1, 0x7c757c4c, 0x0db5b154, 0xc01ede02, 0x1fc86e78, 0x1f3985be,
    0xb4805c77, 0x00c880fa, 0x974c1b12, 0x35ab0214, 0xb2dc840d, 0x5b00ae37, 0xd313b026, 0xb260969d,
    0x7f4c8879, 0x1734c4d3, 0x49068631, 0xb9f6a021, 0x6b863e6f, 0xcee5debf, 0x29f8c9fb, 0x53dd6880,
    0x72b61223, 0x1f67a9fd, 0x0a0f6993, 0x13e59119, 0x11cca12e, 0xfe6b6766, 0x16b6effc, 0x97918fc4,
    0xc2b8a563, 0x94f2f741, 0x0bfa8c9a, 0xd1537ae8, 0xc1da349c, 0x873c60ca, 0x95005b85, 0x9b5c080e,
    0xbc8abbd9, 0xe1eab1d2, 0x6dac9070, 0x4ea9ebf1, 0xe0cf30d4, 0x1ef5bd7b, 0xd161043e, 0x5d2fa2e2,
    0xff5d3cae, 0x86ed9f87, 0x2aa1daa1, 0xbd731a34, 0x9e8f4b22, 0xb1c2c67a, 0xc21758c9, 0xa182215d,
    0xccb01948, 0x8d168df7, 0x04238cfe, 0x368c3dbc, 0x0aeadca5, 0xbad21c24, 0x0a71fee5, 0x9fc5d872,
    0x54c152c6, 0xfc329483, 0x6783384a, 0xeddb3e1c, 0x65f90e30, 0x884ad098, 0xce81675a, 0x4b372f7d,
    0x68bf9a39, 0x43445f1e, 0x40f8d8cb, 0x90d5acb6, 0x4cd07282, 0x349eeb06, 0x0c9d5332, 0x520b24ef,
    0x80020447, 0x67976491, 0x2f931ca3, 0xfe9b0535, 0xfcd30220, 0x61a9e6cc, 0xa487d8d7, 0x3f7c5dd1,
    0x7d0127c5, 0x48f51d15, 0x60dea871, 0xc9a91cb7, 0x58b53bb3, 0x9d5e0b2d, 0x624a78b4, 0x30dbee1b,
    0x9bdf22e7, 0x1df5c299, 0x2d5643a7, 0xf4dd35ff, 0x03ca8fd6, 0x53b47ed8, 0x6f2c19aa, 0xfeb0c1f4,
    0x49e54438, 0x2f2577e6, 0xbf876969, 0x72440ea9, 0xfa0bafb8, 0x74f5b3a0, 0x7dd357cd, 0x89ce1358,
    0x6ef2cdda, 0x1e7767f3, 0xa6be9fdb, 0x4f5f88f8, 0xba994a3a, 0x08ca6b65, 0xe0893818, 0x9e00a16a,
    0xf42bfc8f, 0x9972eedc, 0x749c8b51, 0x32c05f5e, 0xd706805f, 0x6bfbb7cf, 0xd9210a10, 0x31a1db97,
    0x923a9559, 0x37a7a1f6, 0x059f8861, 0xca493e62, 0x65157e81, 0x8f6467dd, 0xab85ff9f, 0x9331aff2,
    0x8616b9f5, 0xedbd5695, 0xee7e29b1, 0x313ac44f, 0xb903112f, 0x432ef649, 0xdc0a36c0, 0x61cf2bba,
    0x81474925, 0xa8b6c7ad, 0xee5931de, 0xb2f8158d, 0x59fb7409, 0x2e3dfaed, 0x9af25a3f, 0xe1fed4d5,
};

constexpr uint32_t low_bits(unsigned n) { return n >= 32 ? ~0u : (1u << n) - 1; }

constexpr unsigned ceil_log2(uint32_t v) {
  unsigned r = 0;
  while ((uint64_t{1} << r) < v) ++r;
  return r;
}

uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// ---- the code family of a channel depth -------------------------------------------
//
// Code l (0 <= l < Bpc) is Golomb-Rice with parameter l for the first n_gr[l] values
// (a unary prefix of value >> l zeros, a one, then l low bits); larger values get an
// escape of prefix_len zeros and a fixed-length suffix, which keeps every codeword
// within kCodeLenLimit bits.
template <unsigned Bpc>
struct Family {
  static constexpr uint32_t kMask = low_bits(Bpc);
  static constexpr unsigned kLevels = kMask + 1;

  std::array<uint32_t, Bpc> n_gr{}, escape_len{}, escape_below{}, suffix_len{};
  std::array<std::array<uint8_t, Bpc>, kLevels> code_len{};  // [value][code]
  std::array<uint8_t, kLevels> bucket_of{};                  // context value -> bucket
  unsigned buckets = 0;

  constexpr Family() {
    for (unsigned l = 0; l < Bpc; ++l) {
      const uint32_t prefix_len = std::min<uint32_t>(kCodeLenLimit - Bpc, low_bits(Bpc - l));
      n_gr[l] = prefix_len << l;
      suffix_len[l] = ceil_log2(kLevels - n_gr[l]);
      escape_len[l] = prefix_len + suffix_len[l];
      escape_below[l] = low_bits(32 - prefix_len);  // a window at most this is an escape
      for (uint32_t n = 0; n < kLevels; ++n)
        code_len[n][l] = static_cast<uint8_t>(n < n_gr[l] ? (n >> l) + l + 1 : escape_len[l]);
    }
    // Contexts share buckets of 1, 2, 4, ... values; the last one takes the rest.
    unsigned end = 0, size = 1;
    for (unsigned start = 0;; start = end + 1) {
      if (buckets > 0) size *= 2;
      end = start + size - 1;
      if (end + size >= kLevels) end = kLevels - 1;
      for (unsigned v = start; v <= end; ++v) bucket_of[v] = static_cast<uint8_t>(buckets);
      ++buckets;
      if (end >= kLevels - 1) break;
    }
  }

  // Residuals are coded folded: 0, -1, +1, -2, ... become 0, 1, 2, 3, ... (mod 2^Bpc).
  static constexpr uint32_t unfold(uint32_t s) { return (s & 1) ? kMask - (s >> 1) : s >> 1; }

  struct Code {
    uint32_t value;
    unsigned len;
  };
  // The codeword at the top of `bits` under code l.
  constexpr Code decode(unsigned l, uint32_t bits) const {
    if (bits > escape_below[l]) {
      const unsigned zeros = static_cast<unsigned>(std::countl_zero(bits));
      const unsigned len = zeros + 1 + l;
      return {(zeros << l) | ((bits >> (32 - len)) & low_bits(l)), len};
    }
    const unsigned len = escape_len[l];
    return {n_gr[l] + ((bits >> (32 - len)) & low_bits(suffix_len[l])), len};
  }
};

constexpr Family<8> kFamily8;
constexpr Family<5> kFamily5;
static_assert(kFamily8.buckets == 8 && kFamily5.buckets == 5);
static_assert(kFamily8.escape_len[0] == kCodeLenLimit && kFamily5.escape_len[0] == 25);

template <unsigned Bpc>
constexpr const Family<Bpc>& family() {
  if constexpr (Bpc == 8) {
    return kFamily8;
  } else {
    return kFamily5;
  }
}

// ---- bit reader ---------------------------------------------------------------------
//
// 32-bit little-endian words, most significant bit first. Like quic.c's decoder it
// always looks at the 32 bits from its position: those must be inside the payload
// (a trailing partial word is ignored), or the stream is truncated. Past the end it
// reads zeros, so decoding can finish the row it is in; the first fault is kept.
class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> payload) : data_(payload.data()), words_(payload.size() / 4) {
    refill();
    check();
  }

  uint32_t peek() const { return static_cast<uint32_t>(acc_ >> 32); }
  void eat(unsigned n) {  // 0 < n <= 32
    acc_ <<= n;
    avail_ -= n;
    pos_ += n;
    if (avail_ < 32) refill();
    check();
  }
  uint64_t bit() const { return pos_; }
  uint64_t bits() const { return uint64_t{words_} * 32; }

  void fail(const char* code, const char* why) {
    if (!fault_) {
      fault_ = code;
      why_ = why;
      fault_bit_ = pos_;
    }
  }
  bool failed() const { return fault_ != nullptr; }
  const char* fault_code() const { return fault_; }
  const char* fault_why() const { return why_; }
  uint64_t fault_bit() const { return fault_bit_; }

 private:
  void refill() {
    while (avail_ < 32) {
      const uint64_t w = next_ < words_ ? le32(data_ + next_ * 4) : 0;
      ++next_;
      acc_ |= w << (32 - avail_);
      avail_ += 32;
    }
  }
  void check() {
    if (pos_ + 32 > bits()) fail("truncated", "the data ends");
  }

  const uint8_t* data_;
  size_t words_;
  size_t next_ = 0;   // next word to load
  uint64_t acc_ = 0;  // the bits from pos_ on, left-aligned; avail_ of them loaded
  unsigned avail_ = 0;
  uint64_t pos_ = 0;
  const char* fault_ = nullptr;
  const char* why_ = nullptr;
  uint64_t fault_bit_ = 0;
};

// ---- adaptive model -------------------------------------------------------------------

// One context bucket: the bits each code would have spent lately, and the best code.
struct Bucket {
  std::array<uint32_t, kMaxCodes> counters{};
  uint32_t best = 0;
};

// One channel (a colour or the alpha plane): its buckets and the residuals of the row
// being coded. residual[0] is the context of the row's first pixel (the previous
// row's first residual, 0 on the first row); residual[1 + x] is pixel x's. Pixels in
// a run code nothing, so theirs stay as an earlier row left them, as in quic.c.
struct Channel {
  std::array<Bucket, kMaxCodes> buckets{};
  std::vector<uint8_t> residual;

  Channel(unsigned bpc, uint32_t width) : residual(size_t{width} + 1, 0) {
    for (auto& b : buckets) b.best = bpc - 1;
  }
};

// What the channels coded together share: when the model is next updated (the wait
// count, stepped through kChaos; the wait mask grows as the image goes on) and the
// run-length coder's state. RGB's three colours share one; alpha and gray have their own.
struct State {
  uint32_t waitcnt = 0;
  uint32_t seed = 0xff;
  uint32_t wm_trigger = kTrigger[0];
  uint32_t wmidx = 0;
  uint32_t wmileft = kWmiNext;
  unsigned melc_state = 0;
  unsigned melc_len = kMelcLen[0];
  uint32_t melc_order = 1u << kMelcLen[0];

  uint32_t tabrand() { return kChaos[++seed & 0xff]; }
  void next_wait_mask() {
    ++wmidx;
    wm_trigger = kTrigger[std::min<uint32_t>(wmidx, 10)];
    wmileft = kWmiNext;
  }
};

// ---- pixel layouts: where a pass's channels live in a 0xAARRGGBB pixel ------------------

struct Rgb8 {  // RGB24, RGB32, and RGBA's colours
  static constexpr unsigned kChannels = 3, kBpc = 8;
  static constexpr uint32_t kKey = 0x00ffffff;  // the bits two pixels must share to be equal
  static uint32_t get(uint32_t px, unsigned c) { return (px >> (16 - 8 * c)) & 0xff; }
  static uint32_t put(uint32_t, const uint32_t* v) { return 0xff000000u | v[0] << 16 | v[1] << 8 | v[2]; }
};

struct Rgb5 {  // RGB16: 5 bits a channel, widened as spice-gtk widens them
  static constexpr unsigned kChannels = 3, kBpc = 5;
  static constexpr uint32_t kKey = 0x00ffffff;
  static uint32_t widen(uint32_t v) { return (v << 3) | (v >> 2); }
  static uint32_t get(uint32_t px, unsigned c) { return ((px >> (16 - 8 * c)) & 0xff) >> 3; }
  static uint32_t put(uint32_t, const uint32_t* v) {
    return 0xff000000u | widen(v[0]) << 16 | widen(v[1]) << 8 | widen(v[2]);
  }
};

struct Alpha {  // RGBA's alpha plane, coded after each row's colours
  static constexpr unsigned kChannels = 1, kBpc = 8;
  static constexpr uint32_t kKey = 0xff000000u;
  static uint32_t get(uint32_t px, unsigned) { return px >> 24; }
  static uint32_t put(uint32_t old, const uint32_t* v) { return (old & 0x00ffffff) | v[0] << 24; }
};

struct Gray {
  static constexpr unsigned kChannels = 1, kBpc = 8;
  static constexpr uint32_t kKey = 0xff;
  static uint32_t get(uint32_t px, unsigned) { return px & 0xff; }
  static uint32_t put(uint32_t, const uint32_t* v) { return 0xff000000u | v[0] * 0x010101u; }
};

// ---- the row coder --------------------------------------------------------------------
//
// Decodes the channels of layout L, one row at a time, straight into the image.
// Each value is predicted (first row: from the left; first column: from above;
// elsewhere: the mean of left and above), the residual's code is the best code of
// the bucket of the residual to its left. The model is updated only at some pixels,
// pseudo-randomly spaced (the wait count); in rows after the first, a pixel whose
// upper neighbours are equal and whose two left neighbours are equal starts a run
// of copies of its left neighbour, coded as a length.
template <class L>
class RowCoder {
  using F = Family<L::kBpc>;
  static constexpr const F& f = family<L::kBpc>();

 public:
  RowCoder(BitReader& in, State& state, std::array<Channel*, L::kChannels> channels)
      : in_(in), st_(state), ch_(channels) {}

  void first_row(uint32_t* cur, uint32_t width) {
    for (Channel* c : ch_) c->residual[0] = 0;
    by_segments<true>(nullptr, cur, width);
  }
  void next_row(const uint32_t* prev, uint32_t* cur, uint32_t width) {
    for (Channel* c : ch_) c->residual[0] = c->residual[1];
    by_segments<false>(prev, cur, width);
  }

 private:
  enum class Pred { kNone, kLeft, kUp, kMean };

  // The wait mask (how far apart model updates may be) grows every kWmiNext pixels
  // until index kWmiMax; a row is coded in segments between those points.
  template <bool First>
  void by_segments(const uint32_t* prev, uint32_t* cur, uint32_t width) {
    uint32_t pos = 0;
    while (st_.wmidx < kWmiMax && st_.wmileft <= width) {
      if (st_.wmileft) {
        segment<First>(prev, cur, pos, pos + st_.wmileft);
        pos += st_.wmileft;
        width -= st_.wmileft;
      }
      st_.next_wait_mask();
    }
    if (width) {
      segment<First>(prev, cur, pos, pos + width);
      if (st_.wmidx < kWmiMax) st_.wmileft -= width;
    }
  }

  template <Pred P>
  void pixel(const uint32_t* prev, uint32_t* cur, uint32_t x) {
    uint32_t v[L::kChannels];
    for (unsigned c = 0; c < L::kChannels; ++c) {
      uint8_t* res = ch_[c]->residual.data();  // res[x] is pixel x-1's
      const uint32_t code = ch_[c]->buckets[f.bucket_of[res[x]]].best;
      auto [value, len] = f.decode(code, in_.peek());
      if (value > F::kMask) {  // an escape past the last value: no encoder writes it
        in_.fail("corrupt", "an escape code past the last value");
        value &= F::kMask;
      }
      res[x + 1] = static_cast<uint8_t>(value);
      uint32_t predicted = 0;
      if constexpr (P == Pred::kLeft) predicted = L::get(cur[x - 1], c);
      if constexpr (P == Pred::kUp) predicted = L::get(prev[0], c);
      if constexpr (P == Pred::kMean) predicted = (L::get(cur[x - 1], c) + L::get(prev[x], c)) >> 1;
      v[c] = (F::unfold(value) + predicted) & F::kMask;
      in_.eat(len);
    }
    cur[x] = L::put(cur[x], v);
  }

  // Feeds pixel x's residuals to the buckets of their contexts: every code's counter
  // grows by the length it would have spent; the shortest becomes the best (ties go
  // to the longer code); counters halve once the best passes the trigger.
  void update(uint32_t x) {
    for (Channel* c : ch_) {
      Bucket& b = c->buckets[f.bucket_of[c->residual[x]]];
      const uint8_t* lens = f.code_len[c->residual[x + 1]].data();
      uint32_t best = L::kBpc - 1;
      uint32_t best_len = (b.counters[best] += lens[best]);
      for (uint32_t i = L::kBpc - 1; i-- > 0;) {
        const uint32_t len = (b.counters[i] += lens[i]);
        if (len < best_len) {
          best = i;
          best_len = len;
        }
      }
      b.best = best;
      if (best_len > st_.wm_trigger)
        for (uint32_t i = 0; i < L::kBpc; ++i) b.counters[i] >>= 1;
    }
  }

  static bool same(uint32_t a, uint32_t b) { return ((a ^ b) & L::kKey) == 0; }

  // The first pixel of a row: coded, then the wait count steps (an update if it ran out).
  template <Pred P>
  uint32_t start(const uint32_t* prev, uint32_t* cur, uint32_t waitmask) {
    pixel<P>(prev, cur, 0);
    if (st_.waitcnt) {
      --st_.waitcnt;
    } else {
      st_.waitcnt = st_.tabrand() & waitmask;
      update(0);
    }
    return 1 + st_.waitcnt;
  }

  template <bool First>
  void segment(const uint32_t* prev, uint32_t* cur, uint32_t x, uint32_t end) {
    const uint32_t waitmask = low_bits(st_.wmidx);
    uint32_t stop;  // the pixel after which the model is next updated
    if (x == 0) {
      stop = start<First ? Pred::kNone : Pred::kUp>(prev, cur, waitmask);
      x = 1;
    } else {
      stop = x + st_.waitcnt;
    }
    if constexpr (First) {
      for (; stop < end; stop = x + (st_.tabrand() & waitmask)) {
        for (; x <= stop; ++x) pixel<Pred::kLeft>(prev, cur, x);
        update(stop);
      }
      for (; x < end; ++x) pixel<Pred::kLeft>(prev, cur, x);
      st_.waitcnt = stop - end;
    } else {
      uint32_t run_start = 0;
      auto run_here = [&](uint32_t i) {
        return i > 2 && i != run_start && same(prev[i - 1], prev[i]) && same(cur[i - 1], cur[i - 2]);
      };
      for (;;) {
        bool run = false;
        while (!run && stop < end) {
          for (; x <= stop; ++x) {
            if ((run = run_here(x))) break;
            pixel<Pred::kMean>(prev, cur, x);
          }
          if (run) break;
          update(stop);
          stop = x + (st_.tabrand() & waitmask);
        }
        if (!run) {
          for (; x < end; ++x) {
            if ((run = run_here(x))) break;
            pixel<Pred::kMean>(prev, cur, x);
          }
          if (!run) {
            st_.waitcnt = stop - end;
            return;
          }
        }
        // A run: the wait count pauses while it lasts.
        st_.waitcnt = stop - x;
        run_start = x;
        uint32_t len = run_length(end - x);
        if (len > end - x) {
          in_.fail("corrupt", "a run past the end of its row segment");
          len = end - x;
        }
        for (const uint32_t run_end = x + len; x < run_end; ++x) {
          uint32_t v[L::kChannels];
          for (unsigned c = 0; c < L::kChannels; ++c) v[c] = L::get(cur[x - 1], c);
          cur[x] = L::put(cur[x], v);
        }
        if (x == end) return;
        stop = x + st_.waitcnt;
      }
    }
  }

  // A run length: a one bit for each whole run of the expected length (which then
  // doubles, more or less: the coder's state moves up), a zero, and the remainder in
  // melc_len bits; then the state moves one down. Stops early past `limit`.
  uint32_t run_length(uint32_t limit) {
    uint64_t run = 0;
    for (;;) {
      const unsigned ones = static_cast<unsigned>(std::countl_one(static_cast<uint8_t>(in_.peek() >> 24)));
      for (unsigned h = 0; h < ones; ++h) {
        run += st_.melc_order;
        if (st_.melc_state < kMelcLen.size() - 1) {
          st_.melc_len = kMelcLen[++st_.melc_state];
          st_.melc_order = 1u << st_.melc_len;
        }
      }
      if (ones != 8) {
        in_.eat(ones + 1);
        break;
      }
      in_.eat(8);
      if (run > limit) return limit + 1;  // too long already (and no endless ones)
    }
    if (st_.melc_len) {
      run += in_.peek() >> (32 - st_.melc_len);
      in_.eat(st_.melc_len);
    }
    if (st_.melc_state) {
      st_.melc_len = kMelcLen[--st_.melc_state];
      st_.melc_order = 1u << st_.melc_len;
    }
    return run > limit ? limit + 1 : static_cast<uint32_t>(run);
  }

  BitReader& in_;
  State& st_;
  std::array<Channel*, L::kChannels> ch_;
};

// ---- the image --------------------------------------------------------------------------

unsigned channel_count(QuicType t) {
  switch (t) {
    case QuicType::Gray: return 1;
    case QuicType::Rgba: return 4;
    default: return 3;
  }
}

Fault fail_at(const BitReader& in, const QuicHeader& h, uint32_t row, size_t payload_size) {
  const std::string image = std::string("QUIC ") + quic_type_name(h.type) + " " + std::to_string(h.width) + "x" +
                            std::to_string(h.height) + ": ";
  const uint64_t offset = in.fault_bit() / 8;
  if (std::string_view(in.fault_code()) == "truncated")
    return fault("truncated", offset,
                 image + "the data ends (" + std::to_string(payload_size) + " bytes) in row " + std::to_string(row));
  return fault(in.fault_code(), offset,
               image + in.fault_why() + " (no encoder writes it) in row " + std::to_string(row) + ", bit " +
                   std::to_string(in.fault_bit()));
}

// Colour channels in layout C (and the alpha plane after each row, for RGBA).
template <class C>
bool decode_rows(BitReader& in, Pixels& px, bool alpha, uint32_t& failed_row) {
  const uint32_t w = px.width;
  Channel r(C::kBpc, w), g(C::kBpc, w), b(C::kBpc, w), a(8, w);
  State colour_state, alpha_state;
  std::array<Channel*, C::kChannels> colours{};
  if constexpr (C::kChannels == 3) {
    colours = {&r, &g, &b};
  } else {
    colours = {&r};
  }
  RowCoder<C> colour(in, colour_state, colours);
  RowCoder<Alpha> alpha_plane(in, alpha_state, {&a});
  for (uint32_t y = 0; y < px.height; ++y) {
    uint32_t* cur = px.row(y);
    if (y == 0) {
      colour.first_row(cur, w);
      if (alpha) alpha_plane.first_row(cur, w);
    } else {
      const uint32_t* prev = px.row(y - 1);
      colour.next_row(prev, cur, w);
      if (alpha) alpha_plane.next_row(prev, cur, w);
    }
    if (in.failed()) {
      failed_row = y;
      return false;
    }
  }
  return true;
}

}  // namespace

const char* quic_type_name(QuicType type) {
  switch (type) {
    case QuicType::Gray: return "GRAY";
    case QuicType::Rgb16: return "RGB16";
    case QuicType::Rgb24: return "RGB24";
    case QuicType::Rgb32: return "RGB32";
    case QuicType::Rgba: return "RGBA";
  }
  return "?";
}

Decoded<QuicHeader> read_quic_header(std::span<const uint8_t> payload, const Limits& limits) {
  auto short_header = [&] {
    return fault("truncated", payload.size(),
                 "the QUIC header needs " + std::to_string(kHeaderBytes) + " bytes, the payload has " +
                     std::to_string(payload.size()));
  };
  if (payload.size() < 4) return short_header();
  const uint32_t magic = le32(payload.data());
  if (magic != kMagic) {
    char text[64];
    std::snprintf(text, sizeof text, "magic 0x%08x, not QUIC (0x%08x)", magic, kMagic);
    return fault("bad_magic", 0, text);
  }
  if (payload.size() < kHeaderBytes) return short_header();
  const uint32_t version = le32(payload.data() + 4);
  if (version != kVersion)
    return fault("unsupported", 4,
                 "QUIC version " + std::to_string(version >> 16) + "." + std::to_string(version & 0xffff) +
                     " (only 0.0 exists)");
  const uint32_t type = le32(payload.data() + 8);
  if (type < 1 || type > 5) return fault("bad_header", 8, "QUIC image type " + std::to_string(type) + " (1..5 exist)");
  QuicHeader h{static_cast<QuicType>(type), le32(payload.data() + 12), le32(payload.data() + 16)};
  const std::string size = std::to_string(h.width) + "x" + std::to_string(h.height);
  if (h.width == 0 || h.height == 0) return fault("bad_header", 12, "QUIC image of " + size);
  if (!limits.allows(h.width, h.height))
    return fault("too_large", 12,
                 "QUIC image of " + size + " is over the limits (" + std::to_string(limits.max_side) + " a side, " +
                     std::to_string(limits.max_pixels) + " pixels)");
  return h;
}

Decoded<Pixels> decode_quic(std::span<const uint8_t> payload, const Limits& limits) {
  auto header = read_quic_header(payload, limits);
  if (!header.ok()) return header.error();
  const QuicHeader h = header.value();

  // Every channel of every pixel of the first row, and of the first three of each
  // later row, costs at least a bit (runs start at the fourth): a payload shorter
  // than that cannot hold the image, whatever its header says. Checked before the
  // image is allocated.
  const uint64_t at_least_bits = kHeaderBytes * 8 + 32 +
                                 uint64_t{channel_count(h.type)} *
                                     (h.width + uint64_t{h.height - 1} * std::min<uint32_t>(h.width, 3));
  if (uint64_t{payload.size() / 4} * 32 < at_least_bits)
    return fault("truncated", payload.size(),
                 std::string("QUIC ") + quic_type_name(h.type) + " " + std::to_string(h.width) + "x" +
                     std::to_string(h.height) + " needs at least " + std::to_string((at_least_bits + 7) / 8) +
                     " bytes, the payload has " + std::to_string(payload.size()));

  BitReader in(payload);
  for (size_t i = 0; i < kHeaderBytes / 4; ++i) in.eat(32);

  Pixels px(h.width, h.height, h.type == QuicType::Rgba);
  uint32_t failed_row = 0;
  bool ok = false;
  switch (h.type) {
    case QuicType::Gray: ok = decode_rows<Gray>(in, px, false, failed_row); break;
    case QuicType::Rgb16: ok = decode_rows<Rgb5>(in, px, false, failed_row); break;
    case QuicType::Rgb24:
    case QuicType::Rgb32: ok = decode_rows<Rgb8>(in, px, false, failed_row); break;
    case QuicType::Rgba: ok = decode_rows<Rgb8>(in, px, true, failed_row); break;
  }
  if (!ok) return fail_at(in, h, failed_row, payload.size());
  return px;
}

}  // namespace sc::image
