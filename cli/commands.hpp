#pragma once
// Every spice-capture subcommand lives in cli/commands/<name>.cpp and exposes one
// registration function. main.cpp calls them in the order they appear in --help.
#include <CLI/CLI.hpp>

namespace sc::cli {

void register_capture(CLI::App& app);
void register_import(CLI::App& app);
void register_record(CLI::App& app);
void register_sessions(CLI::App& app);
void register_channels(CLI::App& app);
void register_messages(CLI::App& app);
void register_stats(CLI::App& app);
void register_problems(CLI::App& app);
void register_agent(CLI::App& app);
void register_clipboard(CLI::App& app);
void register_files(CLI::App& app);
void register_export_pcap(CLI::App& app);
void register_render(CLI::App& app);
void register_images(CLI::App& app);
void register_streams(CLI::App& app);
void register_audio(CLI::App& app);
void register_fields(CLI::App& app);
void register_serve(CLI::App& app);

}  // namespace sc::cli
