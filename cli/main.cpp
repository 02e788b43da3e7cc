// spice-capture: the command-line entry point. Each subcommand lives in
// cli/commands/<name>.cpp; this file only assembles them and maps errors to
// the documented exit codes (cli/exit_codes.hpp).
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

int main(int argc, char** argv) {
  CLI::App app{"spice-capture: record, decode, query and replay SPICE remote-display sessions"};
  app.set_version_flag("--version", "spice-capture 0.1.0");
  app.require_subcommand(1);
  app.footer(
      "Start here:\n"
      "  spice-capture import session.pcap --db s.db   decode a capture into SQLite\n"
      "  spice-capture capture -i lo --db live.db       capture live from an interface (root)\n"
      "  spice-capture record --server H:5900 --db s.db record through a proxy (TLS too)\n"
      "  spice-capture sessions --db s.db               what sessions it holds\n"
      "  spice-capture channels --db s.db               each channel: caps, header, traffic\n"
      "  spice-capture messages --db s.db -n main.init  decoded messages (add --json)\n"
      "  spice-capture stats --db s.db                  messages and bytes per channel/message\n"
      "  spice-capture problems --db s.db               gaps, resyncs and fields that did not decode\n"
      "  spice-capture audio --db s.db                  playback/record streams; `audio export` writes WAV\n"
      "  spice-capture serve --scenario desktop         run our own SPICE server\n\n"
      "Run `spice-capture <command> --help` for a command's options and examples.");
  sc::cli::register_capture(app);
  sc::cli::register_import(app);
  sc::cli::register_record(app);
  sc::cli::register_sessions(app);
  sc::cli::register_channels(app);
  sc::cli::register_messages(app);
  sc::cli::register_stats(app);
  sc::cli::register_problems(app);
  sc::cli::register_agent(app);
  sc::cli::register_clipboard(app);
  sc::cli::register_files(app);
  sc::cli::register_render(app);
  sc::cli::register_images(app);
  sc::cli::register_streams(app);
  sc::cli::register_audio(app);
  sc::cli::register_export_pcap(app);
  sc::cli::register_fields(app);
  sc::cli::register_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // subcommands report their result this way
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return sc::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "spice-capture: internal error: " << e.what() << '\n';
    return sc::cli::kExitFailure;
  }
  return sc::cli::kExitOk;
}
