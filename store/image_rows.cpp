#include "store/image_rows.hpp"

namespace sc::store {

ImageFeed::ImageFeed(ImageFn on_image, ProblemFn on_problem, image::Limits limits)
    : image_(std::move(on_image)),
      problem_(std::move(on_problem)),
      state_(display::DisplayOptions{.limits = limits, .draw = false}, this) {}

void ImageFeed::on_frame(uint32_t connection, uint64_t ts_ns, const decode::DecodedFrame& frame) {
  state_.apply_frame(connection, ts_ns, frame);
}

void ImageFeed::on_image(uint32_t, uint64_t, const display::ImageInfo& info, const image::Pixels*) { image_(info); }

void ImageFeed::on_problem(uint32_t, uint64_t, const decode::Diagnostic& d) { problem_(d); }

namespace {
std::string insert_sql(size_t rows) {
  std::string sql =
      "INSERT INTO image_rows (message, field_id, offset, image_id, type, flags, width, height, "
      "compressed_size, decoded_size, cache, lossy, glz_references, status, fault_code, fault_offset, fault_text) "
      "VALUES ";
  for (size_t i = 0; i < rows; ++i) sql += i ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  return sql;
}
}  // namespace

ImageTable::ImageTable(Database& db) : one_(db.handle(), insert_sql(1)), many_(db.handle(), insert_sql(kRowsPerInsert)) {
  pending_.reserve(kRowsPerInsert);
}

Result<void> ImageTable::insert(int64_t message, int64_t field_id, const display::ImageInfo& info) {
  pending_.push_back({message, field_id, info});
  if (pending_.size() < kRowsPerInsert) return {};
  auto r = write(many_, pending_);
  pending_.clear();
  return r;
}

Result<void> ImageTable::flush() {
  Result<void> r;
  for (const auto& p : pending_) {
    if (auto one = write(one_, std::span(&p, 1)); !one && r.ok()) r = one;
  }
  pending_.clear();
  return r;
}

Result<void> ImageTable::write(Statement& st, std::span<const Pending> rows) {
  auto i64 = [](uint64_t v) { return static_cast<int64_t>(v); };
  st.reset();
  int i = 1;
  for (const Pending& p : rows) {
    const display::ImageInfo& r = p.info;
    st.bind(i, p.message).bind(i + 1, p.field_id).bind(i + 2, int64_t{r.offset}).bind(i + 3, i64(r.id));
    st.bind(i + 4, int64_t{r.type}).bind(i + 5, int64_t{r.flags}).bind(i + 6, int64_t{r.width});
    st.bind(i + 7, int64_t{r.height}).bind(i + 8, i64(r.payload_bytes)).bind(i + 9, i64(r.decoded_bytes));
    st.bind(i + 10, int64_t{static_cast<uint8_t>(r.cache)}).bind(i + 11, int64_t{r.lossy});
    st.bind(i + 12, int64_t{r.references}).bind(i + 13, int64_t{static_cast<uint8_t>(display::image_status(r))});
    if (r.fault) {
      st.bind(i + 14, r.fault->code).bind(i + 15, i64(r.fault->offset)).bind(i + 16, r.fault->text);
    } else {
      st.bind_null(i + 14).bind_null(i + 15).bind_null(i + 16);
    }
    i += 17;
  }
  auto done = st.step();
  if (!done) return done.error();
  return {};
}

}  // namespace sc::store
