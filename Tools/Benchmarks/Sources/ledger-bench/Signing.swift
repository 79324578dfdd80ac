import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

/// The cost of actors' signatures (issue 11): the same history recorded by one actor into two
/// fresh ledgers, one unsigned and one with every event signed (`--sign-with`), interleaved batch
/// by batch so both see the same machine; then the signature check of the signed one
/// (`verifySignatures`: one Ed25519 verification per event) against the hash-chain walk.
struct SigningResult {
  var events = 0
  var unsignedSeconds = 0.0
  var signedSeconds = 0.0
  /// `verifySignatures` and `log.verify` of the signed ledger, median of 3 (seconds).
  var signatureCheckSeconds = 0.0
  var chainCheckSeconds = 0.0
  var unsignedBytes = 0
  var signedBytes = 0
}

func measureSigning(_ batches: [[CouncilLedger.Entry]], base: String, options: BenchOptions) throws -> SigningResult {
  var result = SigningResult()
  let signer = try NoteSigner.generate(name: "bench-secretariat")
  let actor = "secretariat"
  func open(_ name: String) throws -> CouncilLedger {
    var ledgerOptions = EventLog.Options()
    ledgerOptions.storage.initialMapSize = options.mapSize
    let clock = BenchClock()
    ledgerOptions.clock = { LedgerTimestamp(microseconds: clock.tick()) }
    return try CouncilLedger.open(at: base + "/" + name, options: ledgerOptions)
  }
  do {
    let unsigned = try open("unsigned-one-actor"), signed = try open("signed")
    // Both hold the registration, so that their histories differ only by the signatures.
    let registration = CouncilLedger.Entry(.actorKeyRegistered(.init(actor: actor, key: signer.verifier.description)),
                                           effective: .day(2026, 1, 1)!, actor: actor)
    try unsigned.record([registration])
    try signed.record([registration])
    var unsignedNanos: UInt64 = 0, signedNanos: UInt64 = 0
    for batch in batches {
      // The registration is event 1, so the events amended are one further on.
      let oneActor = batch.map { entry -> CouncilLedger.Entry in
        var e = entry
        e.actor = actor
        switch e.event {
        case .eventCorrected(var c): c.corrects = SequenceNumber(c.corrects.rawValue + 1); e.event = .eventCorrected(c)
        case .eventRetracted(var r): r.retracts = SequenceNumber(r.retracts.rawValue + 1); e.event = .eventRetracted(r)
        default: break
        }
        return e
      }
      let t0 = nowNanos()
      let a = try unsigned.record(oneActor)
      let t1 = nowNanos()
      let b = try signed.record(oneActor, signedBy: signer)
      let t2 = nowNanos()
      guard a.count == b.count else { throw BenchError(description: "the signed and unsigned ledgers recorded different events") }
      unsignedNanos += t1 - t0
      signedNanos += t2 - t1
      result.events += b.count
    }
    result.unsignedSeconds = Double(unsignedNanos) / 1e9
    result.signedSeconds = Double(signedNanos) / 1e9
    var checks: [Double] = [], chains: [Double] = []
    for _ in 0..<3 {
      var report: SignatureReport?
      checks.append(try seconds { report = try signed.verifySignatures() })
      guard let report, report.isClean, report.signed == UInt64(result.events) else {
        throw BenchError(description: "the signature check failed: \(report.map { "\($0.signed) signed, \($0.failureCount) failing" } ?? "none")")
      }
      chains.append(try seconds { _ = try signed.log.verify() })
    }
    result.signatureCheckSeconds = checks.sorted()[1]
    result.chainCheckSeconds = chains.sorted()[1]
  }
  result.unsignedBytes = fileSize(base + "/unsigned-one-actor/data.mdb")
  result.signedBytes = fileSize(base + "/signed/data.mdb")
  return result
}

extension SigningResult {
  /// Rows for the scale's table: figure | ledger | raw | ratio | sqlite | ratio (the "raw" column
  /// holds the unsigned figure here).
  func rows() -> [String] {
    let n = Double(events)
    func f(_ v: Double) -> String { fmt(v) }
    return [
      "| signed import, one actor (events/s); the raw column = the same unsigned, interleaved | \(f(n / signedSeconds)) | \(f(n / unsignedSeconds)) | \(ratio(n / signedSeconds, n / unsignedSeconds)) | | |",
      "| signature check, one Ed25519 verification per event (events/s, median of 3); the raw column = the hash-chain verify of the same ledger | \(f(n / signatureCheckSeconds)) | \(f(n / chainCheckSeconds)) | \(ratio(n / signatureCheckSeconds, n / chainCheckSeconds)) | | |",
      "| bytes on disk per event, signed; the raw column = unsigned | \(f(Double(signedBytes) / n)) | \(f(Double(unsignedBytes) / n)) | \(ratio(Double(signedBytes), Double(unsignedBytes))) | | |",
    ]
  }
}
