import Foundation

/// An exact decimal number: a signed integer significand and a count of fraction digits
/// (`43763` is 43763 × 10⁰; `24.7` is 247 × 10⁻¹). Never a binary floating-point number.
///
/// The ledger keeps numbers exactly as printed in the source: `30` and `30.0` are equal in value
/// (`==`, `<`, hashing) but keep their own ``description``, which is what the canonical encoding
/// writes (as a JSON string). Up to 19 integer digits and 18 fraction digits, so that sums,
/// differences and comparisons are exact and can never overflow; products and quotients that
/// would not fit return `nil` (``multiplied(by:)``, ``divided(by:scale:rounding:)``).
///
/// Text form (``init(_:)``): `-?digits(.digits)?`, no exponent, no `+`, no leading zeros before
/// other digits; thousands separators (`43,763`) and full-width digits (`４３７６３`) are accepted
/// by ``init(lenient:)`` only.
public struct LedgerDecimal: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
  /// The digits as an integer: 247 for 24.7.
  public let significand: Int128
  /// The number of fraction digits: 1 for 24.7.
  public let scale: Int

  /// The largest supported scale (fraction digits).
  public static let maximumScale = 18
  /// The most integer digits a value may have.
  public static let maximumIntegerDigits = 19

  public init(significand: Int128, scale: Int) {
    precondition(scale >= 0 && scale <= LedgerDecimal.maximumScale, "scale out of range")
    self.significand = significand
    self.scale = scale
  }

  public init(_ integer: Int) { self.init(significand: Int128(integer), scale: 0) }

  /// Parses the canonical text form, such as `43763`, `24.7`, `-0.05`.
  /// Returns `nil` for anything else (exponents, `+`, commas, leading zeros like `007`,
  /// `-0`, more than 19 integer digits or 18 fraction digits).
  public init?(_ text: String) {
    var utf8 = Substring(text).utf8[...]
    var negative = false
    if utf8.first == UInt8(ascii: "-") { negative = true; utf8 = utf8.dropFirst() }
    var integerDigits = 0
    var fractionDigits = 0
    var seenDot = false
    var value: Int128 = 0
    var firstDigit: UInt8?
    for byte in utf8 {
      if byte == UInt8(ascii: ".") {
        guard !seenDot, integerDigits > 0 else { return nil }
        seenDot = true
        continue
      }
      guard byte >= 0x30 && byte <= 0x39 else { return nil }
      if firstDigit == nil { firstDigit = byte }
      if seenDot { fractionDigits += 1 } else { integerDigits += 1 }
      guard integerDigits <= LedgerDecimal.maximumIntegerDigits, fractionDigits <= LedgerDecimal.maximumScale else { return nil }
      value = value * 10 + Int128(byte - 0x30)
    }
    guard integerDigits > 0, !(seenDot && fractionDigits == 0), fractionDigits <= LedgerDecimal.maximumScale else { return nil }
    if integerDigits > 1 && firstDigit == UInt8(ascii: "0") { return nil }
    if negative && value == 0 { return nil }
    self.init(significand: negative ? -value : value, scale: fractionDigits)
  }

  /// Parses a number as people print it: thousands separators in groups of three (`43,763`,
  /// `1,234,567.5`), full-width digits and signs (`４３，７６３`, `－１`), a leading `+`,
  /// surrounding spaces. A comma anywhere else (`24,7`, `1,,000`) is refused rather than guessed.
  /// The result keeps the digits as printed (`48,139.0` stays at scale 1).
  public init?(lenient text: String) {
    var cleaned = ""
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0xFF10...0xFF19: cleaned.unicodeScalars.append(Unicode.Scalar(scalar.value - 0xFF10 + 0x30)!)
      case 0xFF0E: cleaned.append(".")
      case 0xFF0D, 0x2212: cleaned.append("-")
      case 0xFF0C: cleaned.append(",")
      case 0xFF0B: cleaned.append("+")
      default: cleaned.unicodeScalars.append(scalar)
      }
    }
    cleaned = cleaned.trimmingCharacters(in: .whitespaces)
    if cleaned.hasPrefix("+") { cleaned.removeFirst() }
    if cleaned.contains(",") {
      let sign = cleaned.hasPrefix("-") ? "-" : ""
      let unsigned = sign.isEmpty ? Substring(cleaned) : cleaned.dropFirst()
      let parts = unsigned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
      let groups = parts[0].split(separator: ",", omittingEmptySubsequences: false)
      guard let first = groups.first, (1...3).contains(first.count), groups.dropFirst().allSatisfy({ $0.count == 3 }),
            parts.count == 1 || !parts[1].contains(",") else { return nil }
      cleaned = sign + groups.joined() + (parts.count > 1 ? "." + parts[1] : "")
    }
    self.init(cleaned)
  }

  public var description: String {
    let negative = significand < 0
    var digits = String(significand.magnitude)
    if scale > 0 {
      if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
      digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
    }
    return negative ? "-" + digits : digits
  }

  /// The number printed with thousands separators (`43,763`, `48,139.3`), for tables.
  public var grouped: String {
    let text = description
    let negative = text.hasPrefix("-")
    let body = negative ? String(text.dropFirst()) : text
    let parts = body.split(separator: ".", maxSplits: 1)
    var integer = String(parts[0])
    var i = integer.count - 3
    while i > 0 { integer.insert(",", at: integer.index(integer.startIndex, offsetBy: i)); i -= 3 }
    let fraction = parts.count > 1 ? "." + parts[1] : ""
    return (negative ? "-" : "") + integer + fraction
  }

  /// This value with its significand scaled up to `scale` fraction digits (no rounding).
  func rescaled(to newScale: Int) -> Int128 {
    var s = significand
    for _ in scale..<newScale { s *= 10 }
    return s
  }

  public static func == (a: LedgerDecimal, b: LedgerDecimal) -> Bool {
    let s = max(a.scale, b.scale)
    return a.rescaled(to: s) == b.rescaled(to: s)
  }

  public static func < (a: LedgerDecimal, b: LedgerDecimal) -> Bool {
    let s = max(a.scale, b.scale)
    return a.rescaled(to: s) < b.rescaled(to: s)
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(normalized.significand)
    hasher.combine(normalized.scale)
  }

  /// The same value with trailing fraction zeros removed (`30.0` → `30`).
  public var normalized: LedgerDecimal {
    var s = significand
    var sc = scale
    while sc > 0 && s % 10 == 0 { s /= 10; sc -= 1 }
    return LedgerDecimal(significand: s, scale: sc)
  }

  public var isZero: Bool { significand == 0 }
  public var isNegative: Bool { significand < 0 }

  public static func + (a: LedgerDecimal, b: LedgerDecimal) -> LedgerDecimal {
    let s = max(a.scale, b.scale)
    return LedgerDecimal(significand: a.rescaled(to: s) + b.rescaled(to: s), scale: s)
  }

  public static func - (a: LedgerDecimal, b: LedgerDecimal) -> LedgerDecimal {
    let s = max(a.scale, b.scale)
    return LedgerDecimal(significand: a.rescaled(to: s) - b.rescaled(to: s), scale: s)
  }

  /// The exact product: 43763 × 1.1 = 48139.3. The scales add; past 18 fraction digits the
  /// product is rounded half away from zero. `nil` when the product has more than 19 integer
  /// digits.
  public func multiplied(by other: LedgerDecimal) -> LedgerDecimal? {
    let (exact, overflow) = significand.multipliedReportingOverflow(by: other.significand)
    if overflow { return nil }
    var magnitude = exact.magnitude
    var scale = self.scale + other.scale
    var guardDigit: UInt128 = 0
    while scale > LedgerDecimal.maximumScale { guardDigit = magnitude % 10; magnitude /= 10; scale -= 1 }
    if guardDigit >= 5 { magnitude += 1 }
    var limit: UInt128 = 1
    for _ in 0..<(LedgerDecimal.maximumIntegerDigits + scale) { limit *= 10 }
    if magnitude >= limit { return nil }
    return LedgerDecimal(significand: exact < 0 ? -Int128(magnitude) : Int128(magnitude), scale: scale)
  }

  /// How to round to a number of fraction digits.
  public enum RoundingRule: Sendable {
    /// Half away from zero (四捨五入).
    case halfAwayFromZero
    /// Toward zero (切り捨て).
    case towardZero
  }

  /// `self ÷ divisor` rounded to `scale` (0…18) fraction digits; `nil` when `divisor` is zero
  /// or the quotient has more than 19 integer digits.
  public func divided(by divisor: LedgerDecimal, scale: Int, rounding: RoundingRule = .halfAwayFromZero) -> LedgerDecimal? {
    guard !divisor.isZero, (0...LedgerDecimal.maximumScale).contains(scale) else { return nil }
    // (sa·10^-a) / (sb·10^-b) = q·10^-scale  ⇒  q = sa·10^(scale+b-a) / sb, plus one guard digit.
    var numerator = significand.magnitude * 10
    var denominator = divisor.significand.magnitude
    let shift = scale + divisor.scale - self.scale
    for _ in 0..<abs(shift) {
      if shift > 0 {
        let (n, overflow) = numerator.multipliedReportingOverflow(by: 10)
        if overflow { return nil }
        numerator = n
      } else {
        let (d, overflow) = denominator.multipliedReportingOverflow(by: 10)
        if overflow { return LedgerDecimal(significand: 0, scale: scale) }  // |self| < 10^19 ≪ divisor
        denominator = d
      }
    }
    var q = numerator / denominator
    let guardDigit = q % 10
    q /= 10
    if rounding == .halfAwayFromZero && guardDigit >= 5 { q += 1 }
    var limit: UInt128 = 1
    for _ in 0..<(LedgerDecimal.maximumIntegerDigits + scale) { limit *= 10 }
    if q >= limit { return nil }
    let negative = (significand < 0) != (divisor.significand < 0) && q != 0
    return LedgerDecimal(significand: negative ? -Int128(q) : Int128(q), scale: scale)
  }


  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let raw = try container.decode(CanonicalValue.self)
    let text: String
    switch raw {
    case .string(let s): text = s
    case .number(let n): text = n
    default:
      throw DecodingError.typeMismatch(LedgerDecimal.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a decimal such as \"43763\" or \"24.7\", got \(raw.typeName)"))
    }
    guard let value = LedgerDecimal(text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a decimal; write digits with an optional '.', such as \"43763\" or \"24.7\" (no commas, exponents or '+'; at most 19 digits before the point and 18 after)"))
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
