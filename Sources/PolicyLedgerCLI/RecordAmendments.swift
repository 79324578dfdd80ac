import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger.Record {
  /// `record correct`.
  struct Correct: EventRecording {
    static let configuration = CommandConfiguration(
      commandName: "correct",
      abstract: "Correct an earlier event: some of its fields, or a whole replacement payload (and optionally its date); the original stays in the log.",
      discussion: """
        Field by field (the other fields are kept as they stand, a first correction's changes included): \
        --value, --unit, --period, --note for an indicator.observed event; --affiliation (repeat it: the \
        whole new list) for member.appointed and member.affiliation-changed; --effective for any event. Example:
          policy-ledger record correct --event 97 --value 43,315 --reason "typed 43,513 for 43,315"

        Or --payload, the whole replacement payload, of the original event's type (see `policy-ledger export` \
        for the original): every field the original has must be in it (a field left out is refused, not \
        dropped). Example:
          policy-ledger record correct --event 74 --reason "typo: 43,153 on the slide" --payload '{"indicator":"young-faculty","value":"43153","unit":"人"}'
        """)
    static let flags = ["corrects": "--event", "reason": "--reason", "payload": "--payload", "effective": "--effective",
                        "payload.value": "--value", "payload.unit": "--unit", "payload.period": "--period", "payload.note": "--note",
                        "payload.affiliations": "--affiliation"]

    @Option(name: .customLong("event"), help: ArgumentHelp("The sequence number of the event to correct.", valueName: "n"))
    var eventNumber: Checked<EventNumber>
    @Option(help: ArgumentHelp("Why (kept in the record).", valueName: "text"))
    var reason: String
    @Option(help: ArgumentHelp("The whole replacement payload as a JSON object (instead of the field flags).", valueName: "json"))
    var payload: String?
    @Option(help: ArgumentHelp("The corrected effective date, when the date itself was wrong.", valueName: "date"))
    var effective: Checked<EffectiveDate>?
    @Option(parsing: .unconditional, help: ArgumentHelp("indicator.observed: the corrected value (43,153, 24.7).", valueName: "value"))
    var value: Checked<LedgerDecimal>?
    @Option(help: ArgumentHelp("indicator.observed: the corrected unit.", valueName: "unit"))
    var unit: IndicatorUnit?
    @Option(help: ArgumentHelp("indicator.observed: the corrected period (FY2019, 2015/2017).", valueName: "period"))
    var period: Checked<ObservedPeriod>?
    @Option(help: ArgumentHelp("indicator.observed: the corrected note.", valueName: "text"))
    var note: String?
    @Option(help: ArgumentHelp("member.appointed, member.affiliation-changed: the corrected affiliations (repeat for each line).", valueName: "text"))
    var affiliation: [String] = []
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    var fieldFlags: [String] {
      [value == nil ? nil : "--value", unit == nil ? nil : "--unit", period == nil ? nil : "--period", note == nil ? nil : "--note",
       affiliation.isEmpty ? nil : "--affiliation"].compactMap { $0 }
    }

    func event() throws -> CouncilEvent {
      if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason cannot be empty: say why the event is corrected.") }
      _ = try value?.value("--value")
      _ = try period?.value("--period")
      let corrects = try eventNumber.value("--event").sequence
      guard let payload else {
        if fieldFlags.isEmpty && effective == nil {
          throw ValidationError("Say what to correct: fields (--value, --unit, --period, --note, --affiliation), --effective, or the whole --payload.")
        }
        // Filled from the event as it stands once the ledger is open (`replacement`).
        return .eventCorrected(.init(corrects: corrects, reason: reason, payload: .object([:]), effective: try effective?.value("--effective")))
      }
      if !fieldFlags.isEmpty {
        throw ValidationError("Give either --payload (the whole replacement) or field flags (\(fieldFlags.joined(separator: ", "))), not both.")
      }
      let value: CanonicalValue
      do { value = try CanonicalValue.parse(payload) } catch {
        throw ValidationError("--payload is not valid JSON: \(error).")
      }
      guard case .object = value else { throw ValidationError("--payload must be a JSON object, such as {\"indicator\":\"young-faculty\",\"value\":\"43153\",\"unit\":\"人\"}.") }
      return .eventCorrected(.init(corrects: corrects, reason: reason, payload: value, effective: try effective?.value("--effective")))
    }
    func effectiveDate() throws -> EffectiveDate? { try effective?.value("--effective") }

    func run() throws {
      let signer = try entry.signer()
      try Recorder.record(try event(), effective: try effectiveDate(), actor: entry.resolvedActor(signer: signer, ledger: ledger), source: entry.source, signer: signer,
                          options: entry, ledger: ledger, format: output.format, flags: Self.flags, key: entry.key,
                          amend: payload == nil ? { try self.replacement(for: $0, in: $1) } : nil)
    }

    /// The event as it stands with the given fields replaced, and its date in force.
    func replacement(for sequence: SequenceNumber, in ledger: CouncilLedger) throws -> (payload: CanonicalValue, effective: EffectiveDate) {
      guard let current = try ledger.eventInForce(sequence) else {
        throw Failure(.dataError, "--event: event \(sequence) was retracted; a retracted event cannot be corrected")
      }
      let type = current.original.type
      func refuse(_ flags: [String]) -> Failure {
        Failure(.usage, "\(flags.joined(separator: ", ")) cannot correct event \(sequence), a \(type) event: field flags correct indicator.observed (--value, --unit, --period, --note) and member.appointed or member.affiliation-changed (--affiliation); give the whole --payload instead")
      }
      let observedFlags = fieldFlags.filter { $0 != "--affiliation" }
      var event = current.event
      switch event {
      case .indicatorObserved(var p):
        if !affiliation.isEmpty { throw refuse(["--affiliation"]) }
        if let value { p.value = try value.value("--value") }
        if let unit { p.unit = unit }
        if let period { p.period = try period.value("--period") }
        if let note { p.note = note }
        event = .indicatorObserved(p)
      case .memberAppointed(var p):
        if !observedFlags.isEmpty { throw refuse(observedFlags) }
        if !affiliation.isEmpty { p.affiliations = try checkedAffiliations(affiliation) }
        event = .memberAppointed(p)
      case .memberAffiliationChanged(var p):
        if !observedFlags.isEmpty { throw refuse(observedFlags) }
        if !affiliation.isEmpty { p.affiliations = try checkedAffiliations(affiliation) }
        event = .memberAffiliationChanged(p)
      default:
        if !fieldFlags.isEmpty { throw refuse(fieldFlags) }
      }
      return (try event.payload(), current.effective)
    }
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
