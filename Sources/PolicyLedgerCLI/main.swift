import Foundation

// The `policy-ledger` executable: parse the command line, run the command, exit with a
// documented status (see PolicyLedger.swift).
//
// `--ledger PATH` is a global option: it may also stand before the subcommand
// (`policy-ledger --ledger L import FILE`). ArgumentParser reads options on the subcommand, so a
// leading `--ledger` is handed to it through $POLICY_LEDGER_PATH, which `--ledger` after the
// subcommand still overrides.
var arguments = Array(CommandLine.arguments.dropFirst())
while let first = arguments.first, first.hasPrefix("--ledger") {
  if first == "--ledger", arguments.count >= 2 {
    setenv(LedgerOptions.environmentVariable, arguments[1], 1)
    arguments.removeFirst(2)
  } else if first.hasPrefix("--ledger=") {
    setenv(LedgerOptions.environmentVariable, String(first.dropFirst("--ledger=".count)), 1)
    arguments.removeFirst()
  } else {
    break
  }
}
PolicyLedger.runAndExit(arguments)
