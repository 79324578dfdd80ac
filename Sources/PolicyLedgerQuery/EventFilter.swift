public import PolicyLedgerEventLog

/// Which events a reader of the raw log shows (`log`, `/api/log`, the web view's log page): by
/// actor, type, stream and recorded-at range. An absent field does not filter.
public struct EventFilter: Sendable {
  /// The actor, exactly.
  public var actor: String?
  /// A type (`indicator.observed`), or a prefix of types (`indicator`: every `indicator.*`).
  public var type: String?
  /// A stream id (`body:csti`), or a bare id (`csti`: any stream with that id).
  public var stream: String?
  /// Recorded at or after / at or before these moments (UTC).
  public var recordedFrom: LedgerTimestamp?
  public var recordedTo: LedgerTimestamp?

  public init(actor: String? = nil, type: String? = nil, stream: String? = nil, recordedFrom: LedgerTimestamp? = nil, recordedTo: LedgerTimestamp? = nil) {
    self.actor = actor; self.type = type; self.stream = stream; self.recordedFrom = recordedFrom; self.recordedTo = recordedTo
  }

  /// Whether `e` passes every filter given.
  public func matches(_ e: RecordedEvent) -> Bool {
    if let actor, e.actor != actor { return false }
    if let type, e.type != type && !e.type.hasPrefix(type + ".") { return false }
    if let stream, !e.streams.contains(where: { $0.rawValue == stream || (!stream.contains(":") && $0.rawValue.hasSuffix(":" + stream)) }) { return false }
    if let recordedFrom, e.recordedAt < recordedFrom { return false }
    if let recordedTo, e.recordedAt > recordedTo { return false }
    return true
  }
}

extension CouncilLedger {
  /// The last event recorded as of `knowledge`: `nil` for everything (``KnowledgeTime/latest``),
  /// event 0 when nothing had been recorded by the moment asked.
  public func lastSequence(knownAt knowledge: KnowledgeTime) throws -> SequenceNumber? {
    switch knowledge {
    case .latest: nil
    case .moment(let t): try log.sequence(knownAt: t) ?? SequenceNumber(0)
    case .through(let s): s
    }
  }
}
