import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

/// A moment of transaction time for `log --recorded-from/--recorded-to`: `2026-11-29T12:00:00Z`,
/// `2026-11-29 21:00` (Japan time), or a date (the end of that day, Japan time).
struct MomentArgument: CommandLineValue {
  let moment: LedgerTimestamp
  static func read(_ text: String) throws(ArgumentProblem) -> MomentArgument {
    do { return MomentArgument(moment: try LedgerTimestamp(parsing: text)) } catch {
      throw ArgumentProblem(reason: error.description)
    }
  }
}

/// Which events `log` shows: by actor, type, stream and recorded-at range.
struct LogFilter: ParsableArguments {
  @Option(help: ArgumentHelp("Only events recorded by this actor (exactly).", valueName: "name"))
  var actor: String?
  @Option(help: ArgumentHelp("Only events of this type (indicator.observed), or of every type under a prefix (indicator).", valueName: "type"))
  var type: String?
  @Option(help: ArgumentHelp("Only events naming this stream (body:csti), or any stream with this id (csti).", valueName: "stream"))
  var stream: String?
  @Option(name: .customLong("recorded-from"), help: ArgumentHelp("Only events recorded at or after this moment.", valueName: "moment"))
  var recordedFrom: Checked<MomentArgument>?
  @Option(name: .customLong("recorded-to"), help: ArgumentHelp("Only events recorded at or before this moment.", valueName: "moment"))
  var recordedTo: Checked<MomentArgument>?

  func validate() throws {
    let from = try recordedFrom?.value("--recorded-from").moment
    let to = try recordedTo?.value("--recorded-to").moment
    if let from, let to, to < from { throw ValidationError("--recorded-to (\(to)) is before --recorded-from (\(from)).") }
  }

  var isEmpty: Bool { actor == nil && type == nil && stream == nil && recordedFrom == nil && recordedTo == nil }

  /// Whether an event passes every filter given.
  func predicate() throws -> (RecordedEvent) -> Bool {
    EventFilter(actor: actor, type: type, stream: stream,
                recordedFrom: try recordedFrom?.value("--recorded-from").moment, recordedTo: try recordedTo?.value("--recorded-to").moment).matches
  }
}
