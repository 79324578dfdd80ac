import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog

extension PolicyLedger.Record {
  /// `record correct`.
  struct Correct: EventRecording {
    static let configuration = CommandConfiguration(
      commandName: "correct",
      abstract: "Correct an earlier event: a replacement payload (and optionally date); the original stays in the log.",
      discussion: """
        --payload is the whole replacement payload, of the original event's type (see `policy-ledger export` for \
        the original). Example:
          policy-ledger record correct --event 74 --reason "typo: 43,153 on the slide" --payload '{"indicator":"young-faculty","value":"43153","unit":"人"}'
        """)
    static let flags = ["corrects": "--event", "reason": "--reason", "payload": "--payload", "effective": "--effective"]

    @Option(name: .customLong("event"), help: ArgumentHelp("The sequence number of the event to correct.", valueName: "n"))
    var eventNumber: Checked<EventNumber>
    @Option(help: ArgumentHelp("Why (kept in the record).", valueName: "text"))
    var reason: String
    @Option(help: ArgumentHelp("The replacement payload as a JSON object.", valueName: "json"))
    var payload: String
    @Option(help: ArgumentHelp("The corrected effective date, when the date itself was wrong.", valueName: "date"))
    var effective: Checked<EffectiveDate>?
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason cannot be empty: say why the event is corrected.") }
      let value: CanonicalValue
      do { value = try CanonicalValue.parse(payload) } catch {
        throw ValidationError("--payload is not valid JSON: \(error).")
      }
      guard case .object = value else { throw ValidationError("--payload must be a JSON object, such as {\"indicator\":\"young-faculty\",\"value\":\"43153\",\"unit\":\"人\"}.") }
      return .eventCorrected(.init(corrects: try eventNumber.value("--event").sequence, reason: reason, payload: value, effective: try effective?.value("--effective")))
    }
    func effectiveDate() throws -> EffectiveDate? { try effective?.value("--effective") }
  }

  /// `record retract`.
  struct Retract: EventRecording {
    static let configuration = CommandConfiguration(
      commandName: "retract",
      abstract: "Withdraw an earlier event; the original stays in the log, the state ignores it from now on.")
    static let flags = ["retracts": "--event", "corrects": "--event", "reason": "--reason"]

    @Option(name: .customLong("event"), help: ArgumentHelp("The sequence number of the event to retract.", valueName: "n"))
    var eventNumber: Checked<EventNumber>
    @Option(help: ArgumentHelp("Why (kept in the record).", valueName: "text"))
    var reason: String
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason cannot be empty: say why the event is retracted.") }
      return .eventRetracted(.init(retracts: try eventNumber.value("--event").sequence, reason: reason))
    }
    func effectiveDate() throws -> EffectiveDate? { nil }
  }
}
