import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

// JSON and table text for the ledger's read models, shared by the read commands and the demo.
// Every entity has "id" and "name" (the Japanese name) and "nameEn" when known; decimals are
// strings; dates are canonical strings (2020-03-26, 2019-04, FY2020, 2019-08~).

extension JSON {
  /// A stored payload as JSON.
  init(_ value: CanonicalValue) {
    switch value {
    case .string(let s): self = .string(s)
    case .number(let n): self = .integer(n)
    case .bool(let b): self = .bool(b)
    case .array(let items): self = .array(items.map(JSON.init))
    case .object(let members): self = .object(members.mapValues(JSON.init))
    }
  }
}

enum Render {
  /// `1 body`, `2 bodies`: a count with its noun in the right number.
  static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
  }

  static func named(_ id: String, _ name: LocalizedName, _ extra: [String: JSON?]) -> JSON {
    var members = name.jsonMembers
    members["id"] = .string(id)
    for (key, value) in extra { if let value { members[key] = value } }
    return .object(members)
  }

  static func body(_ b: BodyState, depth: Int? = nil) -> JSON {
    named(b.id, b.name, [
      "kind": .string(b.kind.rawValue), "kindJa": .string(b.kind.japanese), "parent": .optional(b.parent),
      "mandate": b.mandate.map(JSON.string), "established": .string(b.established.description),
      "dissolved": b.dissolved.map { .string($0.description) }, "dissolutionReason": b.dissolutionReason.map(JSON.string),
      "members": .integer(b.members.count), "depth": depth.map { .integer($0) },
      "formerNames": .array(b.formerNames.map { former in
        JSON.merged(.object(former.name.jsonMembers), ["until": .string(former.until.description)])
      }),
    ])
  }

  static func member(_ m: MembershipState, body: String) -> JSON {
    named(m.person, m.name, [
      "person": .string(m.person), "body": .string(body), "role": .string(m.role.rawValue), "roleJa": .string(m.role.japanese),
      "affiliations": .strings(m.affiliations), "since": .string(m.since.description),
      "roleSince": m.roleSince.map { .string($0.description) }, "appointment": .integer(m.appointment.rawValue),
    ])
  }

  static func person(_ p: PersonState) -> JSON {
    named(p.id, p.name, ["memberships": .object(p.memberships.mapValues { .string($0.rawValue) })])
  }

  static func decision(_ d: DecisionState) -> JSON {
    let earlier = d.schedule.dropLast()
    return .object([
      "id": .string(d.id), "name": .string(d.title), "title": .string(d.title), "body": .string(d.body),
      "kind": .string(d.kind.rawValue), "kindJa": .string(d.kind.japanese), "document": .optional(d.document),
      "planned": .date(d.planned), "earlierPlanned": .array(earlier.map { .string($0.planned.description) }),
      "schedule": .array(d.schedule.map { p in
        .object(["planned": .string(p.planned.description), "setOn": .string(p.setOn.description), "seq": .integer(p.sequence.rawValue), "reason": .optional(p.reason)])
      }),
      "taken": .date(d.taken), "status": .string(d.taken == nil ? "planned" : "taken"),
    ])
  }

  static func target(_ rule: TargetRule?) -> JSON {
    guard let rule else { return .null }
    return .fields([
      "rule": .string(rule.rule.rawValue), "factor": rule.factor.map { .string($0.description) }, "value": rule.value.map { .string($0.description) },
      "atLeast": .bool(rule.atLeast ?? true), "eventually": .bool(rule.eventually ?? false), "approximate": .bool(rule.approximate ?? false),
      "statedAs": rule.statedAs.map(JSON.string), "printedValue": rule.printedValue.map { .string($0.description) },
    ])
  }

  static func observation(_ o: ObservationRecord) -> JSON {
    .fields([
      "value": .string(o.value.description), "unit": .string(o.unit.rawValue), "period": .optional(o.period?.description),
      "effective": .string(o.effective.description), "seq": .integer(o.sequence.rawValue), "recorded": .string(o.recordedAt.description),
      "actor": .string(o.actor), "source": .optional(o.source), "note": o.note.map(JSON.string),
      "correction": o.correction.map { c in .object(["seq": .integer(c.sequence.rawValue), "reason": .string(c.reason), "actor": .string(c.actor), "recorded": .string(c.recordedAt.description)]) },
    ])
  }

  static func indicator(_ s: IndicatorState) -> JSON {
    let target = s.target?.absoluteTarget(baseline: s.baseline?.value)
    return named(s.id, s.name, [
      "unit": .string(s.unit.rawValue), "group": .optional(s.group), "parent": .optional(s.parent),
      "breakdown": s.breakdown.map { .object($0.mapValues(JSON.string)) },
      "baseline": s.baseline.map(\.json) ?? .null, "reference": s.reference.map(\.json) ?? .null,
      "target": .decimal(target), "targetRule": Render.target(s.target), "targetPeriod": .optional(s.targetPeriod?.description),
      "changeTerms": s.changeTerms.map { .string($0.rawValue) }, "defined": .string(s.defined.description),
      "retired": .optional(s.retired?.description),
      "latest": s.latest.map(Render.observation) ?? .null,
    ])
  }

  static func progress(_ r: ProgressRow) -> JSON {
    named(r.indicator, r.name, [
      "indicator": .string(r.indicator), "group": .optional(r.group), "parent": .optional(r.parent),
      "breakdown": r.breakdown.map { .object($0.mapValues(JSON.string)) },
      "unit": .string(r.unit.rawValue),
      "baseline": .decimal(r.baseline?.value), "baselinePeriod": .optional(r.baseline?.period?.description),
      "reference": .decimal(r.reference?.value), "referencePeriod": .optional(r.reference?.period?.description),
      "latest": .decimal(r.latest?.value), "latestPeriod": .optional(r.latest?.period?.description),
      "latestEffective": .date(r.latest?.effective),
      "target": .decimal(r.target), "targetPeriod": .optional(r.targetPeriod?.description),
      "targetStatedAs": .optional(r.targetRule?.statedAs), "targetPrinted": .decimal(r.targetRule?.printedValue),
      "targetRule": Render.target(r.targetRule),
      "change": .optional(r.change),
      "achieved": r.achieved.map(JSON.bool) ?? .null,
    ])
  }

  /// `43,763人`, `23.4%`; an em dash when absent.
  static func quantity(_ value: LedgerDecimal?, _ unit: IndicatorUnit) -> Cell {
    guard let value else { return Cell("—", raw: "") }
    return Cell(value.grouped + unit.rawValue, raw: value.description)
  }

  /// The derived target with the slide's own words: `48,139.3人 (１割増加（48,139人）)`.
  static func targetCell(_ target: LedgerDecimal?, rule: TargetRule?, unit: IndicatorUnit) -> Cell {
    guard let target else { return Cell("—", raw: "") }
    var text = target.grouped + unit.rawValue
    if let stated = rule?.statedAs {
      text += " (\(stated))"
    } else if let printed = rule?.printedValue, printed != target {
      text += " (printed \(printed.grouped))"
    }
    if rule?.eventually == true && rule?.statedAs == nil { text += " eventually" }
    return Cell(text, raw: target.description)
  }

  static func achievedMark(_ achieved: Bool?) -> Cell {
    switch achieved {
    case true?: return Cell("✓", raw: "true")
    case false?: return Cell("✗", raw: "false")
    case nil: return Cell("—", raw: "")
    }
  }

  static func amendment(_ status: AmendmentStatus) -> (text: String, by: SequenceNumber?) {
    switch status {
    case .inForce: return ("in force", nil)
    case .corrected(let by): return ("corrected by \(by)", by)
    case .retracted(let by): return ("retracted by \(by)", by)
    case .superseded(let by): return ("superseded by \(by)", by)
    }
  }

  /// A signature's cell: the key (`yamada+5880bd94`), empty when unsigned, or what is wrong in
  /// capitals (the full reason is `verify`'s); CSV and JSON carry the summary.
  static func signature(_ status: SignatureStatus) -> Cell {
    switch status {
    case .signed(let key, _): Cell(key.label)
    case .unsigned(nil): Cell("", raw: "unsigned")
    case .unsigned: Cell("UNSIGNED (required)", raw: status.summary)
    case .bad: Cell("BAD SIGNATURE", raw: status.summary)
    }
  }

  /// A signature as `log` and `audit` write it in JSON: `status` (signed, unsigned, bad), the
  /// key when signed, the problem when it fails.
  static func signatureJSON(_ status: SignatureStatus) -> JSON {
    switch status {
    case .signed(let key, let registration):
      .fields(["status": .string("signed"), "key": .string(key.description), "registration": .integer(registration.rawValue)])
    case .unsigned(let required):
      .fields(["status": .string("unsigned"), "required": .bool(required != nil), "problem": required == nil ? nil : .string(status.summary)])
    case .bad:
      .fields(["status": .string("bad"), "problem": .string(status.summary)])
    }
  }
}

extension TimeOptions {
  /// `"asOf"` and `"knownAt"` members for a JSON envelope.
  func jsonMembers() throws -> [String: JSON] {
    var out: [String: JSON] = ["asOf": .string(try day().description)]
    switch try knowledge() {
    case .latest: break
    case .moment(let t): out["knownAt"] = .string(t.description)
    case .through(let s): out["knownThrough"] = .integer(s.rawValue)
    }
    return out
  }
}
