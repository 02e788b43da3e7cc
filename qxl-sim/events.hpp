#pragma once
// How simulated hardware reports what happened (a key arrived, a file was saved,
// a client announced capabilities). The host decides where events go (JSON
// lines on stdout for `serve --json`). Sinks may be called from the spice worker
// thread as well as the main thread, so implementations must be thread-safe.
#include <functional>

#include <nlohmann/json.hpp>

namespace sc::qxl {

using Json = nlohmann::json;
// `event` is the event name; `fields` its payload (an object, possibly empty).
using EventSink = std::function<void(const char* event, Json fields)>;

inline void emit(const EventSink& sink, const char* event, Json fields = Json::object()) {
  if (sink) sink(event, std::move(fields));
}

}  // namespace sc::qxl
