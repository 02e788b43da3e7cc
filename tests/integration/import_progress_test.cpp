// A long import as a user lives it, on the real recorded session replicated to
// tens of megabytes: a progress line on a terminal (percent, bytes, rate),
// silence with -q, readers while the import runs, and Ctrl-C leaving a
// consistent store that says the capture was interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "peer_session.hpp"
#include "tests/integration/background_command.hpp"
#include "store/database.hpp"

namespace {

using namespace sc::test;
using sc::store::Database;

// An import started in the background, its stderr read as it comes.
struct Import : BackgroundCommand {
  explicit Import(const std::vector<std::string>& args) : BackgroundCommand(with_program(args)) {}
  static std::vector<std::string> with_program(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {spice_capture()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
};

class LongImport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    session_ = &shared_qemu_session();
    if (!session_->error.empty()) return;
    work_ = temp_dir("long-import");
    big_ = (work_ / "big.pcap").string();
    replicated_ = run(bin_dir() + "/replicate_pcap " + session_->pcap.string() + " " + big_ + " " +
                          std::to_string(session_->port) + " 60",
                      120);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(work_); }
  void SetUp() override {
    ASSERT_TRUE(session_->error.empty()) << session_->error;
    ASSERT_EQ(replicated_.exit_code, 0) << replicated_.output;
  }
  std::string db(const std::string& name) {
    const auto p = (work_ / name).string();
    std::filesystem::remove(p);
    return p;
  }

  static const RecordedSession* session_;
  static std::filesystem::path work_;
  static std::string big_;
  static CommandResult replicated_;
};
const RecordedSession* LongImport::session_ = nullptr;
std::filesystem::path LongImport::work_;
std::string LongImport::big_;
CommandResult LongImport::replicated_;

TEST_F(LongImport, ProgressShowsPercentOfTheFile) {
  Import imp({"import", big_, "--db", db("progress.db"), "--progress"});
  EXPECT_EQ(imp.finish(), 0) << imp.err();
  EXPECT_NE(imp.err().find("importing " + big_ + ": "), std::string::npos) << imp.err();
  EXPECT_NE(imp.err().find("% ("), std::string::npos);
  EXPECT_NE(imp.err().find(" of "), std::string::npos);
  // The line is rewritten in place and cleared at the end.
  EXPECT_NE(imp.err().find("\r"), std::string::npos);
  EXPECT_NE(imp.err().find("\r\033[K"), std::string::npos);
}

TEST_F(LongImport, QuietAndScriptsSeeNoProgress) {
  auto q = run(spice_capture() + " import " + big_ + " --db " + db("quiet.db") + " -q --progress", 300, true);
  EXPECT_EQ(q.exit_code, 0);
  EXPECT_EQ(q.output.find("importing"), std::string::npos) << q.output;
  // stderr not a terminal and no --progress: nothing either.
  auto s = run(spice_capture() + " import " + big_ + " --db " + db("script.db") + " 2>&1 >/dev/null", 300);
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.output.find("importing"), std::string::npos) << s.output;
}

TEST_F(LongImport, CtrlCKeepsWhatWasReadAndSaysSo) {
  // The capture arrives through a FIFO at about 20 MB/s, so the import is still
  // running when the test reads the store and when it sends SIGINT.
  const std::string fifo = (work_ / "slow.pcap").string();
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::signal(SIGPIPE, SIG_IGN);
  std::atomic<bool> stop_feeding{false};
  std::thread feeder([&] {
    std::ifstream in(big_, std::ios::binary);
    const int out = ::open(fifo.c_str(), O_WRONLY);
    if (out < 0) return;
    std::vector<char> buf(200 * 1024);
    while (!stop_feeding && in.read(buf.data(), static_cast<std::streamsize>(buf.size())).gcount() > 0) {
      if (write(out, buf.data(), static_cast<size_t>(in.gcount())) < 0) break;  // the import is gone
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    close(out);
  });
  const std::string path = db("interrupted.db");
  Import imp({"import", fifo, "--db", path, "--progress"});
  ASSERT_TRUE(imp.wait_for("importing")) << imp.err();
  // After a commit (at least one a second), another process reads what is there.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  {
    auto live = Database::open(path, Database::Mode::ReadOnly);
    ASSERT_TRUE(live.ok()) << live.error().message;
    auto during = live->query("SELECT status, (SELECT count(*) FROM messages) FROM captures");
    ASSERT_TRUE(during.ok()) << during.error().message;
    ASSERT_EQ(during->rows.size(), 1u);
    EXPECT_EQ(std::get<std::string>(during->rows[0][0]), "importing");
    EXPECT_GT(std::get<int64_t>(during->rows[0][1]), 0);
  }
  imp.signal(SIGINT);
  const int code = imp.finish();
  stop_feeding = true;
  feeder.join();
  EXPECT_EQ(code, 130) << imp.err();
  EXPECT_NE(imp.err().find("interrupted; kept what was read"), std::string::npos) << imp.err();
  // A FIFO has no size: the line shows bytes read, the rate and messages per second.
  EXPECT_NE(imp.err().find("B/s, "), std::string::npos) << imp.err();
  EXPECT_NE(imp.err().find(" messages/s"), std::string::npos) << imp.err();
  auto stored = Database::open(path, Database::Mode::ReadOnly);
  ASSERT_TRUE(stored.ok());
  auto t = stored->query("SELECT status, (SELECT count(*) FROM messages), (SELECT count(*) FROM messages "
                     "WHERE spice_raw(id) IS NULL), (SELECT count(*) FROM channels WHERE type IS NULL) FROM captures");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(std::get<std::string>(t->rows[0][0]), "interrupted");
  EXPECT_GT(std::get<int64_t>(t->rows[0][1]), 0);
  EXPECT_EQ(std::get<int64_t>(t->rows[0][2]), 0);  // every stored message has its bytes
  EXPECT_EQ(std::get<int64_t>(t->rows[0][3]), 0);  // and every channel its state
  // Fewer messages than the whole capture holds.
  const std::string whole = db("whole.db");
  auto full = run(spice_capture() + " import " + big_ + " --db " + whole + " -q", 300);
  ASSERT_EQ(full.exit_code, 0);
  auto all = Database::open(whole, Database::Mode::ReadOnly);
  EXPECT_LT(std::get<int64_t>(t->rows[0][1]), std::get<int64_t>(all->query("SELECT count(*) FROM messages")->rows[0][0]));
}

}  // namespace
