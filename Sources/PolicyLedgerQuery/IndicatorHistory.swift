public import PolicyLedgerDomain
public import PolicyLedgerEventLog
import PolicyLedgerStorage

/// One recorded value of an indicator with its whole story: both clocks, actor, source, and
/// the correction or retraction that amended it.
public struct IndicatorHistoryEntry: Sendable, Hashable {
  /// The observation event as recorded.
  public var event: RecordedEvent
  public var observed: IndicatorObserved
  public var status: AmendmentStatus
  /// The value in force: the original, or the latest correction's (every field: value, unit,
  /// period, note); `nil` when retracted.
  public var current: IndicatorObserved?
  /// The effective date in force: the original's, or the one the latest correction gave;
  /// `nil` when retracted.
  public var currentEffective: EffectiveDate?
  /// The correction or retraction event that amended it.
  public var amendment: RecordedEvent?
  /// The amendment's reason.
  public var reason: String?
}

extension CouncilLedger {
  /// An indicator's history as known at `knownAt`: every observation ever recorded, in the
  /// order they were recorded, with its effective date, observed period, source, actor,
  /// recorded-at and any correction or retraction (the latest known at `knownAt`).
  /// - Throws: ``ProjectionError/noSuchEntity(_:)``.
  /// - Complexity: O(k) for k events in the indicator's stream, all held in the result; for a
  ///   long series, ``indicatorHistory(_:knownAt:each:)`` hands them over one at a time.
  public func indicatorHistory(_ id: String, knownAt: KnowledgeTime = .latest) throws -> (indicator: IndicatorState, entries: [IndicatorHistoryEntry]) {
    var entries: [IndicatorHistoryEntry] = []
    let indicator = try indicatorHistory(id, knownAt: knownAt) { entries.append($0) }
    return (indicator, entries)
  }

  /// The same history, handed to `each` entry by entry as it is read (the stream index a page
  /// of 1,024 events at a time, in one read transaction), so that memory stays flat however
  /// long the series. Each observation's amendment is one seek in the amendments index.
  /// - Returns: The indicator's state (its latest value included).
  /// - Throws: ``ProjectionError/noSuchEntity(_:)``, or what `each` throws.
  @discardableResult
  public func indicatorHistory(_ id: String, knownAt: KnowledgeTime = .latest, each: (IndicatorHistoryEntry) throws -> Void) throws -> IndicatorState {
    guard CouncilEvent.localIDError(id) == nil else { throw ProjectionError.noSuchEntity("indicator:\(id)") }
    return try reading(knownAt) { txn, k in
      guard let state = try Reader(set: live, knownThrough: k).entity(.indicator(id), asOf: nil, in: txn)?.indicator else {
        throw ProjectionError.noSuchEntity("indicator:\(id)")
      }
      var version: UInt64 = 1
      while true {
        let page = try log.sequences(inStream: .indicator(id), fromVersion: version, limit: 1024, in: txn)
        for sequence in page where sequence.rawValue <= k {
          guard let event = try log.event(sequence, in: txn) else {
            throw LedgerError.corruptEvent(sequence: sequence, reason: "the stream index names it but the log does not hold it")
          }
          guard event.type == "indicator.observed", case .indicatorObserved(let observed) = try Projector.decode(event) else { continue }
          var item = IndicatorHistoryEntry(event: event, observed: observed, status: .inForce, current: observed,
                                           currentEffective: event.effective, amendment: nil, reason: nil)
          switch try Projector.amendment(of: sequence, knownThrough: k, set: live, in: txn) {
          case .corrected(let by)?:
            item.status = .corrected(by: by)
            if let amendment = try log.event(by, in: txn), case .eventCorrected(let c) = try Projector.decode(amendment) {
              item.amendment = amendment
              item.reason = c.reason
              item.current = try? CanonicalDecoder().decode(IndicatorObserved.self, from: c.payload)
              item.currentEffective = c.effective ?? event.effective
            }
          case .retracted(let by)?:
            item.status = .retracted(by: by)
            item.current = nil
            item.currentEffective = nil
            if let amendment = try log.event(by, in: txn), case .eventRetracted(let r) = try Projector.decode(amendment) {
              item.amendment = amendment
              item.reason = r.reason
            }
          case nil: break
          }
          try each(item)
        }
        if page.count < 1024 { break }
        version += UInt64(page.count)
      }
      return state
    }
  }
}
