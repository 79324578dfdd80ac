public import PolicyLedgerStorage
import Foundation

/// An actor's Ed25519 signature over one event, as the `signatures` database stores it.
///
/// The signed message is the event's **chain hash**, its 32 bytes
/// (`SHA-256(previous hash ‖ canonical bytes)`), which fixes the event's content, sequence number,
/// recorded-at moment and everything before it; so a signature can only be made inside the
/// append's write transaction, once the hash is known, and it stays valid only where it was made.
///
/// Stored value (69 bytes): `0x01` (Ed25519, the signed-note algorithm byte) ‖ the key id
/// (4 bytes, big-endian, as in C2SP signed-note: ``noteKeyID(name:publicKey:)``) ‖ the 64-byte
/// signature. Key: the event's sequence number, 8 bytes big-endian.
public struct EventSignature: Sendable, Hashable {
  /// The signing key's id (the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)).
  public let keyID: UInt32
  /// The Ed25519 signature (RFC 8032), 64 bytes.
  public let signature: [UInt8]

  public init(keyID: UInt32, signature: [UInt8]) { self.keyID = keyID; self.signature = signature }

  /// `signer`'s signature over `hash` (the event's chain hash).
  /// - Throws: what swift-crypto throws when signing fails (it does not for a valid key).
  public init(signing hash: EventHash, with signer: NoteSigner) throws {
    self.init(keyID: signer.verifier.keyID, signature: try signer.signature(for: hash.bytes))
  }

  /// The stored form: `0x01 ‖ key id ‖ signature` (69 bytes).
  public var bytes: [UInt8] { [ed25519Algorithm] + withUnsafeBytes(of: keyID.bigEndian, Array.init) + signature }

  /// Reads a stored value, or `nil` when it is not 69 bytes beginning with 0x01 (damage).
  public init?(bytes: [UInt8]) {
    guard bytes.count == 69, bytes[0] == ed25519Algorithm else { return nil }
    self.init(keyID: bytes[1..<5].reduce(0) { $0 << 8 | UInt32($1) }, signature: Array(bytes[5...]))
  }

  /// Why `stored` is not a signature value (``init(bytes:)`` gives `nil`), for reports.
  public static func damage(of stored: [UInt8]) -> String {
    "its stored signature is damaged: \(stored.count) bytes\(stored.first.map { String(format: " beginning 0x%02x", $0) } ?? ""), where 69 are expected (0x01 for Ed25519, a 4-byte key id, a 64-byte signature)"
  }

  /// Whether this is `key`'s valid signature over `hash` (the id must match too).
  public func isValid(for hash: EventHash, by key: NoteVerifier) -> Bool {
    keyID == key.keyID && signature.count == 64 && key.isValidSignature(signature, for: hash.bytes)
  }
}

extension EventLog {
  /// The name of the LMDB database holding actors' signatures, one per signed event.
  public static let signaturesDatabaseName = "signatures"

  /// Stores `signature` for event `sequence` in the append's transaction. Events are signed in
  /// sequence order, so every key is the largest yet (`MDB_APPEND`).
  /// - Throws: ``LedgerError/storage(_:)``; ``LedgerError/notALedger(path:reason:)`` when the
  ///   ledger has no `signatures` database (a ledger written before it, opened read-only).
  public func putSignature(_ signature: EventSignature, for sequence: SequenceNumber, in txn: borrowing LMDBWriteTransaction) throws {
    guard let signatures else { throw LedgerError.notALedger(path: path, reason: "it was opened without its signatures database") }
    try storageErrors { try txn.put(signature.bytes, for: sequence.keyBytes, in: signatures, flags: .append) }
  }

  /// The stored signature value of event `sequence` as it is (69 bytes when intact), or `nil`
  /// when the event is unsigned.
  public func storedSignature<T: LMDBReader & ~Copyable>(of sequence: SequenceNumber, in txn: borrowing T) throws -> [UInt8]? {
    guard let signatures else { return nil }
    return try storageErrors { try txn.value(for: sequence.keyBytes, in: signatures) }
  }

  /// As ``storedSignature(of:in:)``, in a read transaction of its own.
  public func storedSignature(of sequence: SequenceNumber) throws -> [UInt8]? {
    try storageErrors { try environment.read { txn in try storedSignature(of: sequence, in: txn) } }
  }

  /// The sequence number of the last signature stored (`nil`: none), read as the key's 8 bytes.
  public func lastSignedSequence<T: LMDBReader & ~Copyable>(in txn: borrowing T) throws -> SequenceNumber? {
    guard let signatures else { return nil }
    let last = try storageErrors { try txn.withCursor(signatures) { c in try c.last().map(\.key) } }
    guard let last else { return nil }
    guard last.count == 8 else {
      throw LedgerError.damaged(path: path, reason: "its signatures database holds a key of \(last.count) bytes, not a sequence number: the file was changed outside the ledger")
    }
    return SequenceNumber(keyBytes: last)
  }

  /// Event `sequence`'s signature, or `nil` when it is unsigned.
  /// - Throws: ``LedgerError/damaged(path:reason:)`` for a stored value that is not a signature
  ///   (never dropped as if the event were unsigned).
  public func signature(of sequence: SequenceNumber) throws -> EventSignature? {
    guard let stored = try storedSignature(of: sequence) else { return nil }
    guard let signature = EventSignature(bytes: stored) else {
      throw LedgerError.damaged(path: path, reason: "event \(sequence): " + EventSignature.damage(of: stored))
    }
    return signature
  }

  /// Every stored signature from `from` on, in sequence order: (sequence number, value as
  /// stored). `body` returns `false` to stop.
  public func forEachStoredSignature<T: LMDBReader & ~Copyable>(from: SequenceNumber = SequenceNumber(1), in txn: borrowing T,
                                                              _ body: (SequenceNumber, [UInt8]) throws -> Bool) throws {
    guard let signatures else { return }
    try storageErrors {
      try txn.withCursor(signatures) { c in
        var entry = try c.seek(atLeast: from.keyBytes)
        while let e = entry {
          guard e.key.count == 8 else {
            throw LedgerError.damaged(path: path, reason: "the signatures database holds a key of \(e.key.count) bytes, not a sequence number")
          }
          if try !body(SequenceNumber(keyBytes: e.key), e.value) { return }
          entry = try c.next()
        }
      }
    }
  }

  /// As ``forEachStoredSignature(from:in:_:)``, in a read transaction of its own.
  public func forEachStoredSignature(from: SequenceNumber = SequenceNumber(1), _ body: (SequenceNumber, [UInt8]) throws -> Bool) throws {
    try storageErrors { try environment.read { txn in try forEachStoredSignature(from: from, in: txn, body) } }
  }
}
