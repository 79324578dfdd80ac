import ArgumentParser
import Foundation
import PolicyLedgerEventLog
import PolicyLedgerProofs
import PolicyLedgerQuery

extension PolicyLedger {
  /// `keys`: Ed25519 signing keys in the C2SP signed-note format.
  struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Make the Ed25519 keys that sign checkpoints and events (C2SP signed-note format); register actors' keys and set the signing policy.",
      subcommands: [Generate.self, Show.self, Register.self, Revoke.self, Policy.self, List.self])

    /// `keys generate`: a new private key file; prints the verifier key.
    struct Generate: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Write a new private key to a new file (mode 600, never inside a ledger folder) and print its verifier key.",
        discussion: """
          The file holds one line, PRIVATE+KEY+NAME+KEYID+BASE64. Keep it secret and apart from the ledger: \
          whoever holds it can sign checkpoints. Hand out the verifier key (NAME+KEYID+BASE64) that this \
          prints: auditors and witnesses check signatures with it.
          """)

      @Option(help: ArgumentHelp("The key's name, without spaces or +, such as csti-secretariat.", valueName: "name"))
      var name: String
      @Option(help: ArgumentHelp("The new private key file.", valueName: "file"), completion: .file())
      var output: String
      @OptionGroup var ledger: LedgerOptions

      func validate() throws {
        guard isValidKeyName(name) else { throw ValidationError("--name must be 1 to 200 bytes, in Unicode NFC (composed characters), without white space, control characters or +.") }
        guard !output.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--output needs a file name.") }
      }

      func run() throws {
        let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
        if let enclosing = ledger.enclosingLedgerFolder(of: folder) {
          throw Failure(.usage, "--output \(output) is inside the ledger folder \(enclosing); keep private keys away from the ledger they sign for")
        }
        let signer = try NoteSigner.generate(name: name)
        let fd = open(output, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
          let code = errno
          throw Failure(code == EEXIST ? .usage : .ioError, "cannot create \(output): \(String(cString: strerror(code)).lowercased())\(code == EEXIST ? " (a key file is never overwritten)" : "")")
        }
        let bytes = Array((signer.privateKeyString + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else {
          unlink(output)
          throw Failure(.ioError, "cannot write \(output); nothing was kept")
        }
        Console.line(signer.verifier.description)
      }
    }

    /// `keys show`: the verifier key of a private key file.
    struct Show: ParsableCommand {
      static let configuration = CommandConfiguration(abstract: "Print the verifier key (NAME+KEYID+BASE64) of a private key file.")

      @Option(help: ArgumentHelp("The private key file.", valueName: "file"), completion: .file())
      var key: String

      func run() throws { Console.line(try ProofFiles.signer(at: key).verifier.description) }
    }
  }

  /// `checkpoint`: the signed C2SP checkpoint of the head, and witnesses' cosignatures.
  struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "checkpoint",
      abstract: "Print the signed checkpoint of the ledger's head (C2SP tlog-checkpoint in a signed note); `checkpoint cosign` adds a witness's signature.",
      subcommands: [Sign.self, Cosign.self],
      defaultSubcommand: Sign.self)

    /// `checkpoint [sign]`.
    struct Sign: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Print the checkpoint of the head (origin, size, base64 Merkle root) signed with --key.",
        discussion: """
          Keep the output anywhere outside the ledger (mail it, publish it, hand it to a witness): later, \
          `policy-ledger verify --checkpoint FILE --key VERIFIERKEY` proves that the ledger still extends it.
          """)

      @Option(help: ArgumentHelp("The private key file (mode 600).", valueName: "file"), completion: .file())
      var key: String
      @OptionGroup var ledger: LedgerOptions

      func run() throws {
        let signer = try ProofFiles.signer(at: key)
        let (signed, _) = try ProofFiles.headCheckpoint(try ledger.openForReading().log, signer: signer)
        Console.out(signed.note.rendered)
      }
    }

    /// `checkpoint cosign`.
    struct Cosign: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "As a witness: check a checkpoint against the ledger and print it with your signature added.",
        discussion: """
          The checkpoint must carry a valid signature by --log-key, name this ledger, and have the root hash \
          of the ledger's first SIZE events; otherwise nothing is signed.
          """)

      @Option(help: ArgumentHelp("The signed checkpoint to cosign (- for standard input).", valueName: "file"), completion: .file())
      var checkpoint: String
      @Option(name: .customLong("log-key"), help: ArgumentHelp("The ledger's verifier key (or a file holding it).", valueName: "key"))
      var logKey: String
      @Option(help: ArgumentHelp("The witness's private key file (mode 600).", valueName: "file"), completion: .file())
      var key: String
      @OptionGroup var ledger: LedgerOptions

      func run() throws {
        let witness = try ProofFiles.signer(at: key)
        let logVerifier = try ProofFiles.verifier(logKey)
        let signed = try ProofFiles.checkpoint(at: checkpoint, option: "--checkpoint")
        let log = try ledger.openForReading().log
        do { _ = try signed.verify(keys: [logVerifier]) } catch let error as NoteError {
          throw Failure(.dataError, "--checkpoint \(checkpoint): \(error); nothing was signed")
        }
        let tree = try LedgerTree(log: log)
        try ProofFiles.requireFits(signed, log, size: tree.size, option: "--checkpoint")
        try ProofFiles.requireStoredTreeMatches(log, refusing: "a witness cannot vouch for it; run `policy-ledger verify`; nothing was signed")
        guard try tree.tree.root(size: signed.checkpoint.size) == signed.checkpoint.rootHash else {
          throw Failure(.dataError, "--checkpoint: " + CheckpointMismatch.rootDiffers(size: signed.checkpoint.size, firstDifferingEvent: nil).description + "; nothing was signed")
        }
        Console.out(try signed.cosigned(with: witness).note.rendered)
      }
    }
  }
}
