// spice-capture fields: every message and field the decoder knows, by dotted path.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "dissect/schema/field_list.hpp"

namespace sc::cli {

void register_fields(CLI::App& app) {
  struct Args {
    std::string prefix;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("fields", "List every message and field name the decoder knows");
  cmd->footer(
      "The names are the dotted paths used everywhere: message names in the store,\n"
      "JSON keys of messages.fields (without the message prefix), CLI filters.\n\n"
      "Examples:\n"
      "  spice-capture fields main.init\n"
      "  spice-capture fields display.draw_copy --json");
  cmd->add_option("prefix", a->prefix, "Only paths starting with this (e.g. inputs. or main.init)");
  cmd->add_flag("--json", a->json, "JSON output");
  cmd->callback([a] {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& f : schema::list_fields(schema::Registry::spice())) {
      if (!f.path.starts_with(a->prefix)) continue;
      if (a->json) {
        nlohmann::ordered_json e = {{"path", f.path}, {"kind", f.kind}, {"values", f.values},
                                    {"direction", f.direction}, {"type", f.type}, {"marks", f.marks}};
        // A message defined both ways may have two numbers (main.agent_data: c2s 107, s2c 109).
        if (f.direction == "both" && f.s2c_type >= 0) e["types"] = {{"c2s", f.type}, {"s2c", f.s2c_type}};
        arr.push_back(std::move(e));
      } else {
        std::cout << schema::field_line(f) << '\n';
      }
    }
    if (a->json) std::cout << arr.dump(2) << '\n';
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace sc::cli
