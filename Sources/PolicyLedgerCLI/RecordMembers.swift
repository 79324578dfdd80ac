import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog

/// `--body` and `--person`: a membership.
struct MembershipOptions: ParsableArguments {
  @Option(help: ArgumentHelp("The body's id (basic-plan-panel).", valueName: "id"))
  var body: Checked<EntityID>
  @Option(help: ArgumentHelp("The person's id (kuno-yuko).", valueName: "id"))
  var person: Checked<EntityID>

  func validate() throws {
    _ = try body.value("--body")
    _ = try person.value("--person")
  }

  func ids() throws -> (body: String, person: String) { (try body.value("--body").rawValue, try person.value("--person").rawValue) }
}

let membershipFlags = ["body": "--body", "person": "--person", "role": "--role", "affiliations": "--affiliation", "name.ja": "--name-ja", "name": "--name-ja", "reason": "--reason"]

/// Checks `--affiliation` values.
func checkedAffiliations(_ values: [String]) throws -> [String] {
  let cleaned = values.map { $0.trimmingCharacters(in: .whitespaces) }
  if cleaned.isEmpty { throw ValidationError("Give at least one --affiliation.") }
  if cleaned.contains(where: \.isEmpty) { throw ValidationError("--affiliation cannot be empty.") }
  return cleaned
}

extension PolicyLedger.Record {
  /// `record member-appointed`.
  struct MemberAppointed: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "member-appointed",
      abstract: "A person joins a body (委員構成).",
      discussion: "Example: policy-ledger record member-appointed --body basic-plan-panel --person kuno-yuko --name-ja \"久能 祐子\" --role advisor --affiliation 京都大学総長学事補佐・経営管理大学院特命教授 --affiliation \"S&R財団理事長兼CEO、ハルシオン創設者兼議長\" --effective 平成31年4月")
    static let flags = membershipFlags

    @OptionGroup var member: MembershipOptions
    @OptionGroup var name: NameOptions
    @Option(help: ArgumentHelp("chair (会長), executive-member (議員), expert-member (専門委員), advisor (アドバイザー) or member (委員).", valueName: "role"))
    var role: MemberRole
    @Option(help: ArgumentHelp("An affiliation as printed (at least one is required); repeat for a second line.", valueName: "text"))
    var affiliation: [String] = []
    @Flag(help: ArgumentHelp("The person is already recorded under another name, and their name changed: from this appointment's date the person's record shows the new name (earlier seats keep theirs). Without it, a known person id with another name is refused."))
    var rename = false
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      let (body, person) = try member.ids()
      return .memberAppointed(.init(body: body, person: person, name: name.name, role: role, affiliations: try checkedAffiliations(affiliation),
                                    renamed: rename ? true : nil))
    }
  }

  /// `record member-role-changed`.
  struct MemberRoleChanged: DatedEventRecording {
    static let configuration = CommandConfiguration(commandName: "member-role-changed", abstract: "A member takes another role on the body.")
    static let flags = membershipFlags

    @OptionGroup var member: MembershipOptions
    @Option(help: ArgumentHelp("The new role.", valueName: "role"))
    var role: MemberRole
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      let (body, person) = try member.ids()
      return .memberRoleChanged(.init(body: body, person: person, role: role))
    }
  }

  /// `record member-affiliation-changed`.
  struct MemberAffiliationChanged: DatedEventRecording {
    static let configuration = CommandConfiguration(commandName: "member-affiliation-changed", abstract: "A member's affiliations change (all of them are given anew).")
    static let flags = membershipFlags

    @OptionGroup var member: MembershipOptions
    @Option(help: ArgumentHelp("An affiliation as printed (at least one is required); repeat for each.", valueName: "text"))
    var affiliation: [String] = []
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      let (body, person) = try member.ids()
      return .memberAffiliationChanged(.init(body: body, person: person, affiliations: try checkedAffiliations(affiliation)))
    }
  }

  /// `record member-departed`.
  struct MemberDeparted: DatedEventRecording {
    static let configuration = CommandConfiguration(commandName: "member-departed", abstract: "A member leaves the body.")
    static let flags = membershipFlags

    @OptionGroup var member: MembershipOptions
    @Option(help: ArgumentHelp("Why, as the document says.", valueName: "text"))
    var reason: String?
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      let (body, person) = try member.ids()
      return .memberDeparted(.init(body: body, person: person, reason: reason))
    }
  }
}
