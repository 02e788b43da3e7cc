// Dev-only entry point: `spice-capture-serve-dev serve ...` behaves like
// `spice-capture serve ...`, for building and testing the server before (or
// without) the full CLI. The tests prefer the real spice-capture when present.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"spice-capture (server-only development build)"};
  app.require_subcommand(1);
  sc::cli::register_serve(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
