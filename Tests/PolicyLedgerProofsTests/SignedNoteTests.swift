import Foundation
@testable import PolicyLedgerProofs
@testable import PolicyLedgerEventLog
import Testing

/// Keys and notes published in golang.org/x/mod/sumdb/note/note_test.go (TestNewVerifier,
/// TestSign, TestOpen; github.com/golang/mod commit fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db),
/// the reference implementation of C2SP signed-note.
enum GoNoteVectors {
  static let peterPrivate = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
  static let peterVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
  static let enochVerifier = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
  static let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
  static let peterSignature = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
  static let enochSignature = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
}

@Suite("C2SP signed notes and checkpoints")
struct SignedNoteTests {
  @Test("the Go reference key parses, derives its verifier and key id, and signs the published note byte for byte")
  func goVectors() throws {
    let signer = try NoteSigner(GoNoteVectors.peterPrivate)
    #expect(signer.name == "PeterNeumann")
    #expect(signer.verifier.description == GoNoteVectors.peterVerifier)
    #expect(signer.privateKeyString == GoNoteVectors.peterPrivate)
    let verifier = try NoteVerifier(GoNoteVectors.peterVerifier)
    #expect(verifier.keyID == 0xc74f20a3)
    #expect(try NoteVerifier(GoNoteVectors.enochVerifier).keyID == 0xaf0cfe78)
    var note = SignedNote(text: GoNoteVectors.text)
    try note.sign(with: signer)
    #expect(note.rendered == GoNoteVectors.text + "\n" + GoNoteVectors.peterSignature)
  }

  @Test("the published two-signature note opens; each key verifies its own signature; unknown keys are ignored")
  func openGoNote() throws {
    let note = try SignedNote(parsing: Array((GoNoteVectors.text + "\n" + GoNoteVectors.peterSignature + GoNoteVectors.enochSignature).utf8))
    #expect(note.text == GoNoteVectors.text)
    #expect(note.signatures.map(\.name) == ["PeterNeumann", "EnochRoot"])
    let peter = try NoteVerifier(GoNoteVectors.peterVerifier), enoch = try NoteVerifier(GoNoteVectors.enochVerifier)
    #expect(try note.verifiedKeys([peter]) == [peter])
    #expect(try note.verifiedKeys([peter, enoch]) == [peter, enoch])
    let other = try NoteSigner.generate(name: "someone").verifier
    #expect(try note.verifiedKeys([other]).isEmpty)
  }

  @Test("bad keys and notes are refused with a reason")
  func refusals() throws {
    // Go's badKey cases: wrong length with adjusted hash, unknown algorithm.
    #expect(throws: NoteError.self) { try NoteVerifier("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==") }
    #expect(throws: NoteError.self) { try NoteVerifier("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") }
    #expect(throws: NoteError.self) { try NoteVerifier("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") }
    #expect(throws: NoteError.self) { try NoteSigner("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz") }
    #expect(throws: NoteError.self) { try NoteSigner.generate(name: "two words") }
    #expect(throws: NoteError.self) { try NoteSigner.generate(name: "a+b") }
    let good = GoNoteVectors.text + "\n" + GoNoteVectors.peterSignature
    let malformed: [String: String] = [
      "truncated": String(good.dropLast(10)),
      "no newline at the end": String(good.dropLast()),
      "no signatures": GoNoteVectors.text,
      "re-wrapped with CRLF": good.replacingOccurrences(of: "\n", with: "\r\n"),
      "hyphen for em dash": good.replacingOccurrences(of: "— ", with: "- "),
      "signature line split": good.replacingOccurrences(of: "PeterNeumann x08", with: "PeterNeumann\nx08"),
    ]
    for (what, text) in malformed {
      #expect(throws: NoteError.self, "\(what)") { _ = try SignedNote(parsing: Array(text.utf8)).verifiedKeys([try NoteVerifier(GoNoteVectors.peterVerifier)]) }
    }
    // Another text under Peter's signature: a bad signature by a known key is an error, not ignored.
    let forged = try SignedNote(parsing: Array(good.replacingOccurrences(of: "cryptography", with: "blockchains").utf8))
    #expect(throws: NoteError.self) { try forged.verifiedKeys([try NoteVerifier(GoNoteVectors.peterVerifier)]) }
  }

  @Test("checkpoints: text form, parse, sign, cosign, quorum, origin")
  func checkpoints() throws {
    let root = [UInt8](repeating: 0xAB, count: 32)
    let checkpoint = Checkpoint(origin: "policy-ledger/1234", size: 42, rootHash: root)
    #expect(checkpoint.text == "policy-ledger/1234\n42\n" + Data(root).base64EncodedString() + "\n")
    #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
    for bad in ["policy-ledger/1234\n042\n\(Data(root).base64EncodedString())\n", "policy-ledger/1234\n42\n", "\n42\n\(Data(root).base64EncodedString())\n",
                "policy-ledger/1234\n42\n\(Data(root.prefix(31)).base64EncodedString())\n", "policy-ledger/1234\n-1\n\(Data(root).base64EncodedString())\n"] {
      #expect(throws: NoteError.self) { try Checkpoint(text: bad) }
    }
    let log = try NoteSigner.generate(name: "council-log"), witness = try NoteSigner.generate(name: "witness")
    let signed = try SignedCheckpoint(signing: checkpoint, with: log)
    let reread = try SignedCheckpoint(parsing: Array(signed.note.rendered.utf8))
    #expect(reread == signed)
    #expect(try reread.verify(keys: [log.verifier], origin: "policy-ledger/1234") == [log.verifier])
    #expect(throws: CheckpointMismatch.self) { try reread.verify(keys: [log.verifier], origin: "policy-ledger/9999") }
    #expect(throws: NoteError.self) { try reread.verify(keys: [witness.verifier]) }
    #expect(throws: NoteError.self) { try reread.verify(keys: [log.verifier, witness.verifier], quorum: 2) }
    let cosigned = try SignedCheckpoint(parsing: Array(try reread.cosigned(with: witness).note.rendered.utf8))
    #expect(try cosigned.verify(keys: [log.verifier, witness.verifier], quorum: 2).count == 2)
  }
}
