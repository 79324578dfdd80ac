import Foundation
import PolicyLedgerStorage

// The `policy-ledger` executable: parse the command line, run the command, exit with a
// documented status (see PolicyLedger.swift).
//
// `--ledger PATH` is a global option: it may also stand before the subcommand
// (`policy-ledger --ledger L import FILE`). ArgumentParser reads options on the subcommand, so a
// leading `--ledger` is handed to it through $POLICY_LEDGER_PATH, which `--ledger` after the
// subcommand still overrides.
var arguments = Array(CommandLine.arguments.dropFirst())
while let first = arguments.first, first.hasPrefix("--ledger") {
  let value: String
  if first == "--ledger", arguments.count >= 2 {
    value = arguments[1]
    arguments.removeFirst(2)
  } else if first.hasPrefix("--ledger=") {
    value = String(first.dropFirst("--ledger=".count))
    arguments.removeFirst()
  } else {
    break
  }
  if value.trimmingCharacters(in: .whitespaces).isEmpty {
    FileHandle.standardError.write(Data("error: --ledger needs a folder path, not an empty string\n".utf8))
    exit(64)
  }
  setenv(LedgerOptions.environmentVariable, value, 1)
}
// A damaged page in a ledger file ends the command with one `error:` line and status 74 (I/O
// error), not LMDB's abort() and a crash report.
LMDBDamage.exitStatus = 74
// A damaged size in data.mdb can point a read past the end of the mapped file: the kernel then
// sends SIGBUS. Say what it means in one line and exit 74, rather than print a crash report.
signal(SIGBUS) { _ in
  let message = "error: a ledger file is damaged, or its disk is full: an access to a memory-mapped ledger file went past its end (SIGBUS); free space if the disk is full, else run `policy-ledger verify`, and restore the ledger from a backup if it fails\n"
  message.withCString { _ = write(2, $0, strlen($0)) }
  _exit(74)
}
// Some damaged pages send LMDB itself through a bad pointer (a page number or offset read from
// the file that leads nowhere: SIGSEGV inside liblmdb). The ledger's own code holds no raw
// pointers but LMDB's, so say what it almost certainly means in one line and exit 74.
signal(SIGSEGV) { _ in
  let message = "error: reading a ledger file failed with an invalid memory access inside LMDB (SIGSEGV): the file is almost certainly damaged; run `policy-ledger verify`, and restore the ledger from a backup if it fails (if it passes, this is a bug: please report it)\n"
  message.withCString { _ = write(2, $0, strlen($0)) }
  _exit(74)
}
PolicyLedger.runAndExit(arguments)
