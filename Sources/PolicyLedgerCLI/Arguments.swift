public import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

// Domain values read from the command line.
//
// A value that can be wrong in many ways (a date, a decimal, an id) is read into `Checked<Value>`,
// which keeps *why* it could not be read; the command's `validate()` then throws a sentence-style
// `ValidationError` naming the flag and the reason (`--as-of "2020-02-30" is not a date: February
// 2020 has 29 days.`), instead of ArgumentParser's generic "the value is invalid".
// Closed vocabularies (body kinds, roles, units) are plain `ExpressibleByArgument` enums.

/// Why a command-line value could not be read: a phrase that follows the flag's name.
struct ArgumentProblem: Error, Sendable {
  let reason: String
}

/// A domain type that can be read from one command-line argument.
protocol CommandLineValue: Sendable {
  /// Reads `text`, or throws why it cannot.
  static func read(_ text: String) throws(ArgumentProblem) -> Self
}

/// A command-line argument read as `Value`, or the reason it could not be.
struct Checked<Value: CommandLineValue>: ExpressibleByArgument, Sendable {
  /// The text exactly as given.
  let text: String
  let result: Result<Value, ArgumentProblem>

  init(argument: String) {
    text = argument
    do { result = .success(try Value.read(argument)) } catch { result = .failure(error) }
  }

  var defaultValueDescription: String { text }

  /// The value, or a `ValidationError` naming `flag` and saying why it could not be read.
  func value(_ flag: String) throws(ValidationError) -> Value {
    switch result {
    case .success(let value): return value
    case .failure(let problem): throw ValidationError("\(flag) \(problem.reason).")
    }
  }
}

extension EffectiveDate: CommandLineValue {
  static func read(_ text: String) throws(ArgumentProblem) -> EffectiveDate {
    do { return try EffectiveDate(parsing: text) } catch { throw ArgumentProblem(reason: error.description) }
  }
}

extension ObservedPeriod: CommandLineValue {
  static func read(_ text: String) throws(ArgumentProblem) -> ObservedPeriod {
    do { return try ObservedPeriod(parsing: text) } catch { throw ArgumentProblem(reason: error.description) }
  }
}

extension LedgerDecimal: CommandLineValue {
  static func read(_ text: String) throws(ArgumentProblem) -> LedgerDecimal {
    guard let value = LedgerDecimal(lenient: text) else {
      if let (integer, fraction) = digitCounts(text),
         integer > LedgerDecimal.maximumIntegerDigits || fraction > LedgerDecimal.maximumScale {
        throw ArgumentProblem(reason: "\"\(text)\" is too long: it has \(integer) digits before the point and \(fraction) after; a value has at most \(LedgerDecimal.maximumIntegerDigits) before and \(LedgerDecimal.maximumScale) after")
      }
      throw ArgumentProblem(reason: "\"\(text)\" is not a number; write digits with an optional decimal point, such as 43763, 43,763 or 24.7")
    }
    return value
  }

  /// The digits before and after the point of a number as people print it (signs, separators and
  /// full-width forms ignored), or `nil` when `text` is not digits with at most one point.
  private static func digitCounts(_ text: String) -> (integer: Int, fraction: Int)? {
    var integer = 0, fraction = 0, seenPoint = false
    for scalar in text.trimmingCharacters(in: .whitespaces).unicodeScalars {
      switch scalar.value {
      case 0x30...0x39, 0xFF10...0xFF19: if seenPoint { fraction += 1 } else { integer += 1 }
      case 0x2E, 0xFF0E: if seenPoint { return nil }; seenPoint = true
      case 0x2C, 0xFF0C, 0x2B, 0xFF0B, 0x2D, 0xFF0D, 0x2212: continue
      default: return nil
      }
    }
    return integer > 0 ? (integer, fraction) : nil
  }
}

extension LedgerDigest: CommandLineValue {
  static func read(_ text: String) throws(ArgumentProblem) -> LedgerDigest {
    guard let digest = LedgerDigest(text) else {
      throw ArgumentProblem(reason: "\"\(text)\" is not a digest; write SEQ:HEX as `policy-ledger digest` prints it (a sequence number, a colon and 64 hex digits)")
    }
    return digest
  }
}

/// An entity id as the ledger spells it: `csti`, `basic-plan-panel`, `young-faculty`.
struct EntityID: CommandLineValue, Hashable, CustomStringConvertible {
  let rawValue: String
  var description: String { rawValue }
  static func read(_ text: String) throws(ArgumentProblem) -> EntityID {
    if let problem = CouncilEvent.localIDError(text) { throw ArgumentProblem(reason: "\"\(text)\" is not a valid id: \(problem)") }
    return EntityID(rawValue: text)
  }
}

/// A sequence number (`--event 42`).
struct EventNumber: CommandLineValue {
  let sequence: SequenceNumber
  static func read(_ text: String) throws(ArgumentProblem) -> EventNumber {
    guard let n = UInt64(text.trimmingCharacters(in: .whitespaces)), n > 0 else {
      throw ArgumentProblem(reason: "\"\(text)\" is not an event number; write a sequence number from 1, as `policy-ledger log` lists them")
    }
    return EventNumber(sequence: SequenceNumber(n))
  }
}

/// A transaction-time question: a moment (`2026-11-29T12:00Z`, `2026-11-29`) or `seq:N`.
struct KnowledgeArgument: CommandLineValue {
  let time: KnowledgeTime
  static func read(_ text: String) throws(ArgumentProblem) -> KnowledgeArgument {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.lowercased().hasPrefix("seq:") {
      guard let n = UInt64(trimmed.dropFirst(4)) else {
        throw ArgumentProblem(reason: "\"\(text)\" is not seq:N; write a sequence number after seq:, as in seq:42")
      }
      return KnowledgeArgument(time: .through(SequenceNumber(n)))
    }
    do { return KnowledgeArgument(time: .moment(try LedgerTimestamp(parsing: text))) } catch {
      throw ArgumentProblem(reason: error.description + "; or write seq:N for \"as known through event N\"")
    }
  }
}

/// `--expected-version N`, `none` (the stream must not exist yet) or `any`.
struct ExpectedVersionArgument: CommandLineValue {
  let version: ExpectedVersion
  static func read(_ text: String) throws(ArgumentProblem) -> ExpectedVersionArgument {
    switch text.lowercased() {
    case "none", "no-stream": return .init(version: .noStream)
    case "any": return .init(version: .any)
    default:
      guard let n = UInt64(text) else {
        throw ArgumentProblem(reason: "\"\(text)\" is not a stream version; write a number of events (0, 1, 2…), none or any")
      }
      return .init(version: n == 0 ? .noStream : .exact(n))
    }
  }
}

/// `--breakdown key=value`.
struct BreakdownPair: CommandLineValue {
  let key: String
  let value: String
  static func read(_ text: String) throws(ArgumentProblem) -> BreakdownPair {
    guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
      throw ArgumentProblem(reason: "\"\(text)\" is not KEY=VALUE; write e.g. sector=大学等")
    }
    return BreakdownPair(key: String(text[..<eq]), value: String(text[text.index(after: eq)...]))
  }
}

// MARK: Closed vocabularies

extension BodyKind: ExpressibleByArgument {
  init?(argument: String) {
    if let kind = BodyKind(rawValue: argument) { self = kind; return }
    guard let kind = BodyKind.allCases.first(where: { $0.japanese == argument }) else { return nil }
    self = kind
  }
}

extension MemberRole: ExpressibleByArgument {
  init?(argument: String) { self.init(lenient: argument) }
}

extension DecisionKind: ExpressibleByArgument {
  init?(argument: String) { self.init(lenient: argument) }
}

extension IndicatorUnit: ExpressibleByArgument {
  init?(argument: String) { self.init(lenient: argument) }
}

extension ChangeTerms: ExpressibleByArgument {
  init?(argument: String) {
    switch argument {
    case "%", "％": self = .percent
    case "割": self = .wari
    case "倍": self = .bai
    default: self.init(rawValue: argument)
    }
  }
}
