import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog

extension PolicyLedger.Record {
  /// `record body-established`.
  struct BodyEstablished: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "body-established",
      abstract: "A body (会議体) is set up: a council, an expert panel (専門調査会), a working group.",
      discussion: "Example: policy-ledger record body-established --body csti --name-ja 総合科学技術会議 --kind council --effective 2001-01")
    static let flags = ["body": "--body", "parent": "--parent", "name.ja": "--name-ja", "name": "--name-ja", "kind": "--kind", "mandate": "--mandate"]

    @Option(help: ArgumentHelp("The body's id: lower-case letters, digits, - _ . (e.g. basic-plan-panel).", valueName: "id"))
    var body: Checked<EntityID>
    @OptionGroup var name: NameOptions
    @Option(help: ArgumentHelp("council (会議), expert-panel (専門調査会), working-group (WG) or other.", valueName: "kind"))
    var kind: BodyKind
    @Option(help: ArgumentHelp("The body it sits under.", valueName: "id"))
    var parent: Checked<EntityID>?
    @Option(help: ArgumentHelp("What the body is for, as the document says.", valueName: "text"))
    var mandate: String?
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      .bodyEstablished(.init(body: try body.value("--body").rawValue, name: name.name, kind: kind,
                             parent: try parent?.value("--parent").rawValue, mandate: mandate))
    }
  }

  /// `record body-renamed`.
  struct BodyRenamed: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "body-renamed",
      abstract: "A body takes a new name (総合科学技術会議 → 総合科学技術・イノベーション会議, May 2014).")
    static let flags = ["body": "--body", "name.ja": "--name-ja", "name": "--name-ja"]

    @Option(help: ArgumentHelp("The body's id.", valueName: "id"))
    var body: Checked<EntityID>
    @OptionGroup var name: NameOptions
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent { .bodyRenamed(.init(body: try body.value("--body").rawValue, name: name.name)) }
  }

  /// `record body-dissolved`.
  struct BodyDissolved: DatedEventRecording {
    static let configuration = CommandConfiguration(commandName: "body-dissolved", abstract: "A body is dissolved.")
    static let flags = ["body": "--body", "reason": "--reason"]

    @Option(help: ArgumentHelp("The body's id.", valueName: "id"))
    var body: Checked<EntityID>
    @Option(help: ArgumentHelp("Why, as the document says.", valueName: "text"))
    var reason: String?
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent { .bodyDissolved(.init(body: try body.value("--body").rawValue, reason: reason)) }
  }
}
