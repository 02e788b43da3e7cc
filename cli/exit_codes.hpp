#pragma once
// The process exit codes of spice-capture. They are part of the CLI contract
// (documented in docs/cli.md): scripts branch on them, so never renumber.
namespace sc::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,        // an unexpected internal error
  kExitUsage = 2,          // bad command line
  kExitInputMissing = 3,   // an input file does not exist or cannot be read
  kExitNotCapture = 4,     // the input is not a pcap/pcapng file
  kExitNoSpice = 5,        // the capture holds no SPICE connection
  kExitTruncated = 6,      // the capture ends mid-packet; what was readable is imported
  kExitDatabase = 7,       // the database cannot be opened, written or is not ours
  kExitIncomplete = 8,     // some of what was asked for could not be produced (redacted, lost bytes)
  kExitNetwork = 9,        // cannot listen, or cannot start the server behind the recorder
  kExitDiffers = 10,       // render --compare: the picture differs from the reference beyond the bound
  kExitInterrupted = 130,  // stopped by SIGINT/SIGTERM; what was done so far is kept (128 + SIGINT)
};

}  // namespace sc::cli
