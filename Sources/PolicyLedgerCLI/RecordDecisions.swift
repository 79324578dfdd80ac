import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog

extension PolicyLedger.Record {
  /// `record decision-scheduled`.
  struct DecisionScheduled: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "decision-scheduled",
      abstract: "A decision is planned for a date (the schedule slide's dates).",
      discussion: """
        --effective is when the schedule was set; --planned is the date planned for the decision. \
        Example: policy-ledger record decision-scheduled --decision next-plan-interim-summary --body basic-plan-panel --kind 中間まとめ --title 次期基本計画中間まとめ --planned 2020-07 --effective 2020
        """)
    static let flags = ["decision": "--decision", "body": "--body", "kind": "--kind", "title": "--title", "document": "--document", "planned": "--planned"]

    @Option(help: ArgumentHelp("The decision's id.", valueName: "id"))
    var decision: Checked<EntityID>
    @Option(help: ArgumentHelp("The body that takes it.", valueName: "id"))
    var body: Checked<EntityID>
    @Option(help: ArgumentHelp("consultation (諮問), report (報告), interim-summary (中間まとめ), recommendation (答申), decision (決定), cabinet-decision (閣議決定), public-comment, review-summary, meeting (会合) or other; the Japanese terms are accepted.", valueName: "kind"))
    var kind: DecisionKind
    @Option(help: ArgumentHelp("The title, as printed.", valueName: "text"))
    var title: String
    @Option(help: ArgumentHelp("The document it produces.", valueName: "text"))
    var document: String?
    @Option(help: ArgumentHelp("The planned date (2020-07, 2020年6月上旬, 2019年8月頃).", valueName: "date"))
    var planned: Checked<EffectiveDate>
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      if title.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--title cannot be empty.") }
      return .decisionScheduled(.init(decision: try decision.value("--decision").rawValue, body: try body.value("--body").rawValue,
                                      kind: kind, title: title, document: document, planned: try planned.value("--planned")))
    }
  }

  /// `record decision-rescheduled`.
  struct DecisionRescheduled: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "decision-rescheduled",
      abstract: "A planned date moves (スケジュール見直し); the earlier planned dates stay in the record.")
    static let flags = ["decision": "--decision", "planned": "--planned", "reason": "--reason"]

    @Option(help: ArgumentHelp("The decision's id.", valueName: "id"))
    var decision: Checked<EntityID>
    @Option(help: ArgumentHelp("The new planned date.", valueName: "date"))
    var planned: Checked<EffectiveDate>
    @Option(help: ArgumentHelp("Why it moved (e.g. 新型コロナ感染症の影響).", valueName: "text"))
    var reason: String?
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      .decisionRescheduled(.init(decision: try decision.value("--decision").rawValue, planned: try planned.value("--planned"), reason: reason))
    }
  }

  /// `record decision-taken`.
  struct DecisionTaken: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "decision-taken",
      abstract: "A decision happened; --effective is its actual date.",
      discussion: "--body, --kind and --title are required unless the decision was scheduled before.")
    static let flags = ["decision": "--decision", "body": "--body", "kind": "--kind", "title": "--title", "document": "--document"]

    @Option(help: ArgumentHelp("The decision's id.", valueName: "id"))
    var decision: Checked<EntityID>
    @Option(help: ArgumentHelp("The body that took it.", valueName: "id"))
    var body: Checked<EntityID>?
    @Option(help: ArgumentHelp("The kind (as for decision-scheduled).", valueName: "kind"))
    var kind: DecisionKind?
    @Option(help: ArgumentHelp("The title, as printed.", valueName: "text"))
    var title: String?
    @Option(help: ArgumentHelp("The document it produced.", valueName: "text"))
    var document: String?
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      .decisionTaken(.init(decision: try decision.value("--decision").rawValue, body: try body?.value("--body").rawValue,
                           kind: kind, title: title, document: document))
    }
  }
}
