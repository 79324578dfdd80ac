public import PolicyLedgerDomain
public import PolicyLedgerEventLog

extension CouncilLedger {
  /// An event as it stands now: its content with its latest correction applied.
  public struct EventInForce: Sendable, Hashable {
    /// The event as recorded.
    public var original: RecordedEvent
    /// Its content in force (the latest correction's, else its own).
    public var event: CouncilEvent
    /// Its effective date in force.
    public var effective: EffectiveDate
    /// The latest correction, if any.
    public var correctedBy: SequenceNumber?
  }

  /// Event `sequence` as it stands now (what a field-level correction starts from, so that a
  /// second correction keeps what the first changed), or `nil` when it was retracted.
  /// - Throws: ``LedgerError/noSuchEvent(_:)``.
  public func eventInForce(_ sequence: SequenceNumber) throws -> EventInForce? {
    try reading(.latest) { txn, _ in
      guard let version = try projector.effectiveVersion(of: sequence, set: live, in: txn) else { return nil }
      return EventInForce(original: version.original, event: version.event, effective: version.effective, correctedBy: version.correction?.sequence)
    }
  }
}
