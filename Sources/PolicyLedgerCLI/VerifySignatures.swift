import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

// `verify`'s report on actors' signatures: counts by key, unsigned events, and each failure (a
// signature that does not hold, or an unsigned event where the policy required one).

extension ProofVerification {
  /// What `verify` (and `/api/integrity`) checks of the events beyond their chain, once it holds:
  /// that each is stored in canonical form (the chain hashes whatever is stored;
  /// Tools/verify-ledger.py checks the same, and no export of other bytes imports), and the
  /// actors' signatures.
  mutating func addEventChecks(_ ledger: CouncilLedger) throws {
    if let (sequence, reason) = try ledger.log.firstNonCanonicalEvent() {
      problems.append("event \(sequence) is not stored in canonical form: \(reason)")
      caption.append("Event \(sequence) is not stored in canonical form: \(reason).")
    }
    add(try ledger.verifySignatures())
  }

  /// Adds the signature check of `report` (``CouncilLedger/verifySignatures()``): caption lines,
  /// a `signatures` JSON member, and a problem when any event fails.
  mutating func add(_ report: SignatureReport) {
    let byKey = report.signedByKey.sorted { $0.key < $1.key }
    var line = "Signatures: \(Render.count(Int(report.signed), "event")) signed by registered keys"
    if !byKey.isEmpty { line += " (" + byKey.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")" }
    line += ", \(report.unsigned) unsigned"
    if report.failureCount > 0 { line += ", \(report.failureCount) failing" }
    line += "; signatures are \(report.policy.policy.rawValue)" + (report.policy.since.map { " (since event \($0))" } ?? "") + "."
    if report.keys.isEmpty && report.signed == 0 && report.failureCount == 0 && report.policy.since == nil {
      line = "Signatures: none (no actor's key is registered; see `keys register`)."
    }
    caption.append(line)
    for (sequence, status) in report.failures.prefix(10) { caption.append("  event \(sequence): \(status.summary)") }
    if report.failureCount > 10 { caption.append("  … \(report.failureCount - 10) more (--format json lists the first \(SignatureReport.maximumListed))") }
    json["signatures"] = .fields([
      "signed": .integer(report.signed), "unsigned": .integer(report.unsigned), "failing": .integer(report.failureCount),
      "byKey": .object(Dictionary(uniqueKeysWithValues: byKey.map { ($0.key, JSON.integer($0.value)) })),
      "policy": .string(report.policy.policy.rawValue), "policySince": report.policy.since.map { .integer($0.rawValue) },
      "failures": .array(report.failures.map { .fields(["seq": .integer($0.sequence.rawValue), "problem": .string($0.status.summary)]) }),
    ])
    if let first = report.failures.first {
      problems.append("\(Render.count(Int(report.failureCount), "event")) \(report.failureCount == 1 ? "fails its" : "fail their") signature check (first: event \(first.sequence), \(first.status.summary))")
    }
  }
}
