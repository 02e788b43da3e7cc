#pragma once
// One main channel's agent conversation (dissect/agent/conversation.hpp) as rows
// of the agent tables: agent_messages, clipboard, file_transfers, and problems.
// Built on the decoding thread, inserted by the store writer's worker in order,
// so a clipboard row always follows the agent message it came in.
#include <functional>
#include <optional>
#include <unordered_map>
#include <string>
#include <variant>
#include <vector>

#include "dissect/agent/conversation.hpp"
#include "store/database.hpp"

namespace sc::store {

struct AgentMessageRow {
  uint64_t ts_ns = 0;
  uint8_t dir = 0;
  uint64_t first_offset = 0, last_offset = 0;
  uint32_t header_at = 0, type = 0;
  std::string name;  // agent.clipboard_grab, agent.unknown
  uint64_t opaque = 0, size = 0;
  std::optional<std::string> fields, summary;
};

struct ClipboardRow {
  uint64_t ts_ns = 0;
  uint8_t dir = 0;
  std::optional<std::string> selection;
  std::string type;
  uint64_t size = 0;
  std::string sha256;
  std::optional<uint32_t> serial;
  bool redacted = false;
  std::variant<std::monostate, std::string, std::vector<uint8_t>> content;  // text, bytes, or none
};

struct TransferRow {
  agent::FileTransfer info;
  std::string content;  // stored, redacted, partial
  std::optional<double> rate_bps;
};

struct AgentProblemRow {
  uint8_t dir = 0;
  uint64_t stream_offset = 0;
  uint64_t ts_ns = 0;
  decode::Severity severity = decode::Severity::Warning;
  std::string code, text;
};

using AgentRow = std::variant<AgentMessageRow, ClipboardRow, TransferRow, AgentProblemRow>;

class AgentRowMaker : public agent::Listener {
 public:
  AgentRowMaker(schema::SecretMask redact, std::function<void(AgentRow)> emit)
      : redact_(redact), emit_(std::move(emit)) {}

  void on_agent_message(const agent::AgentMessageEvent& e) override;
  void on_clipboard(const agent::ClipboardItem& c) override;
  void on_transfer_end(const agent::FileTransfer& t) override;
  void on_diagnostic(const agent::AgentDiagnostic& d) override;

 private:
  schema::SecretMask redact_;
  std::function<void(AgentRow)> emit_;
};

// The worker side: inserts the rows of one channel in the order they come.
class AgentTables {
 public:
  explicit AgentTables(Database& db);
  // name_id: the names table id of a message name (the writer keeps that table).
  Result<void> insert(int64_t channel, const AgentRow& row, int64_t name_id);

 private:
  Statement message_, clipboard_, transfer_;
  std::unordered_map<int64_t, int64_t> last_message_;  // by channel: the agent message a clipboard row came in
};

// Names shared by the rows and the CLI: "utf8_text", "clipboard".
std::string clipboard_type_name(uint32_t type);
std::string clipboard_selection_name(uint32_t selection);

}  // namespace sc::store
