#!/usr/bin/env python3
"""An independent verifier of a Policy Ledger audit pack, written from ARCHITECTURE.md, RFC 9162
§2.1 and the C2SP signed-note and tlog-checkpoint texts alone (no Swift code).

It needs Python's standard library (hashlib, base64, json) and, for Ed25519, the `cryptography`
package (Debian: python3-cryptography).

A pack (written by `policy-ledger audit-pack`) is a folder holding:
  checkpoint      a C2SP signed note whose text is a C2SP tlog-checkpoint (origin, size, root)
  verifier-keys   verifier keys NAME+KEYID+BASE64, one per line (informative: trust comes from --key)
  events.ndjson   the canonical bytes of each event, one per line: each line is a Merkle leaf
  proofs.json     origin, treeSize, rootHash, and per event seq, leafIndex, leafHash, proof, prev
                  (the previous event's chain hash) and, for an event its actor signed, signature
                  (keyId, signature, registration: the actor.key-registered event, in the pack too)

Checks: the checkpoint note parses byte for byte and carries a valid Ed25519 signature by at least
--quorum of the --key keys (default: the keys in verifier-keys, with a warning); proofs.json
names the checkpoint's origin, size and root; each event line's seq is its entry's, its leaf hash
is SHA-256(0x00 || line bytes), and its inclusion proof leads to the checkpoint's root
(RFC 9162 §2.1.3.2). For a signed event: its chain hash is SHA-256(prev || line bytes), the
registration event named is in the pack (so proven in the tree too), came before the event, is an
actor.key-registered of the event's actor whose key has the signature's key id, and the Ed25519
signature by that key over the 32-byte chain hash verifies. (A revocation between the two would
take the whole log to rule out: `policy-ledger verify` checks that.)

Usage: Tools/verify-audit-pack.py DIR [--key VERIFIERKEY]... [--quorum K] [--origin ORIGIN]
       Tools/verify-audit-pack.py --self-test   (published RFC 6962 and Go signed-note vectors)
Exit 0 when the pack verifies, 1 with the first problem, 2 for a usage error or a missing library.
"""
import argparse
import base64
import hashlib
import json
import os
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover
    print("error: the Python package 'cryptography' is needed for Ed25519 (Debian: apt-get install python3-cryptography)", file=sys.stderr)
    sys.exit(2)


class Problem(Exception):
    pass


def b64(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise Problem(f"not canonical base64: {text[:40]}")
    return raw


# --- C2SP signed-note -----------------------------------------------------------------------

def key_id(name: str, key: bytes) -> int:
    """First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian."""
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + b"\x01" + key).digest()[:4], "big")


def parse_verifier(text: str):
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise Problem(f"verifier key {text!r} is not NAME+KEYID+BASE64")
    name, hexid, key64 = parts
    raw = base64.b64decode(key64, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Problem(f"verifier key {name} is not an Ed25519 key (0x01 and 32 bytes)")
    if len(hexid) != 8 or int(hexid, 16) != key_id(name, raw[1:]):
        raise Problem(f"verifier key {name}: key id {hexid} does not match the name and key")
    return name, int(hexid, 16), raw[1:]


def open_note(data: bytes):
    """Splits a signed note into its text and its (name, key id, signature) lines, strictly."""
    try:
        message = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem("the checkpoint note is not UTF-8")
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F for c in message):
        raise Problem("the checkpoint note holds control characters (re-wrapped? CRLF?)")
    split = message.rfind("\n\n")
    if split < 0:
        raise Problem("the checkpoint note has no blank line before its signatures (truncated?)")
    text, block = message[: split + 1], message[split + 2:]
    if not block.endswith("\n"):
        raise Problem("the checkpoint note's last signature line does not end with a newline (truncated?)")
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise Problem(f"a signature line does not begin with an em dash: {line[:40]!r}")
        fields = line[2:].split(" ")
        if len(fields) != 2:
            raise Problem(f"a signature line is not '— NAME BASE64': {line[:40]!r}")
        raw = base64.b64decode(fields[1], validate=True)
        if len(raw) < 5:
            raise Problem("a signature is too short")
        signatures.append((fields[0], int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, signatures


def verified_keys(text: str, signatures, keys):
    good = []
    for name, kid, sig in signatures:
        for key in keys:
            if key[0] == name and key[1] == kid:
                try:
                    Ed25519PublicKey.from_public_bytes(key[2]).verify(sig, text.encode())
                except InvalidSignature:
                    raise Problem(f"the signature by {name} does not verify: the checkpoint was changed after it was signed")
                if key not in good:
                    good.append(key)
    return good


def parse_checkpoint(text: str):
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise Problem("the checkpoint needs an origin, a tree size and a root hash line")
    if not lines[1].isdigit() or str(int(lines[1])) != lines[1]:
        raise Problem("the checkpoint's tree size is not decimal without leading zeros")
    root = b64(lines[2])
    if len(root) != 32:
        raise Problem("the checkpoint's root hash is not 32 bytes")
    return lines[0], int(lines[1]), root


# --- RFC 9162 §2.1 ---------------------------------------------------------------------------

def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, proof, root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, step by step."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_pack(folder: str, key_texts, quorum: int, origin):
    def read(name):
        with open(os.path.join(folder, name), "rb") as f:
            return f.read()

    text, signatures = open_note(read("checkpoint"))
    if not key_texts:
        key_texts = [line for line in read("verifier-keys").decode().splitlines() if line.strip()]
        print("warning: no --key given: trusting the keys in the pack's own verifier-keys file; "
              "compare them with keys obtained elsewhere", file=sys.stderr)
    keys = [parse_verifier(k) for k in key_texts]
    good = verified_keys(text, signatures, keys)
    if len(good) < max(quorum, 1):
        raise Problem(f"the checkpoint carries valid signatures by {len(good)} of the given keys; {quorum} required (wrong key?)")
    cp_origin, size, root = parse_checkpoint(text)
    if origin is not None and cp_origin != origin:
        raise Problem(f"the checkpoint is of {cp_origin!r}, not {origin!r}")
    proofs = json.loads(read("proofs.json"))
    if proofs.get("hashEncoding") != "base64":
        raise Problem("proofs.json does not say its hashes are base64")
    if proofs["origin"] != cp_origin or proofs["treeSize"] != size or b64(proofs["rootHash"]) != root:
        raise Problem("proofs.json names another origin, size or root than the signed checkpoint")
    lines = read("events.ndjson").split(b"\n")
    if lines[-1] != b"":
        raise Problem("events.ndjson does not end with a newline (truncated?)")
    lines = lines[:-1]
    entries = proofs["events"]
    if len(lines) != len(entries):
        raise Problem(f"events.ndjson has {len(lines)} lines but proofs.json {len(entries)} proofs")
    events = {}
    for line, entry in zip(lines, entries):
        seq = entry["seq"]
        events[seq] = (json.loads(line.decode("utf-8")), entry, line)
        if events[seq][0].get("seq") != seq or entry["leafIndex"] != seq - 1:
            raise Problem(f"event {seq}: its line and its proof name different events")
        leaf = leaf_hash(line)
        if leaf != b64(entry["leafHash"]):
            raise Problem(f"event {seq}: its bytes do not have the leaf hash in proofs.json (the event was changed)")
        if not verify_inclusion(leaf, seq - 1, size, [b64(p) for p in entry["proof"]], root):
            raise Problem(f"event {seq}: its inclusion proof does not lead to the checkpoint's root hash")
    signed = [check_actor_signature(seq, events) for seq in sorted(events) if "signature" in events[seq][1]]
    return cp_origin, size, [k[0] for k in good], [e["seq"] for e in entries], signed


def check_actor_signature(seq, events):
    """An actor's signature on event seq (ARCHITECTURE.md, "Actors who sign"): Ed25519 over the
    event's chain hash, by a key an earlier event of the pack registered to the event's actor."""
    event, entry, line = events[seq]
    sig = entry["signature"]
    if not isinstance(sig, dict) or not isinstance(sig.get("keyId"), str) or not isinstance(sig.get("signature"), str) \
            or type(sig.get("registration")) is not int:
        raise Problem(f"event {seq}: its signature entry is not {{keyId, signature, registration (an event number)}}")
    if not isinstance(entry.get("prev"), str):
        raise Problem(f"event {seq}: it is signed but has no prev (the previous event's chain hash), so its signature cannot be checked")
    chain_hash = hashlib.sha256(b64(entry["prev"]) + line).digest()
    registration = sig.get("registration")
    if registration not in events:
        raise Problem(f"event {seq}: it is signed by key id {sig['keyId']}, but the pack holds no event registering that key to its actor")
    reg = events[registration][0]
    if reg.get("type") != "actor.key-registered" or registration >= seq:
        raise Problem(f"event {seq}: event {registration} is not an earlier actor.key-registered event")
    if reg["payload"]["actor"] != event["actor"]:
        raise Problem(f"event {seq}: recorded by {event['actor']!r}, but its signing key is registered to {reg['payload']['actor']!r}")
    name, kid, key = parse_verifier(reg["payload"]["key"])
    if f"{kid:08x}" != sig["keyId"]:
        raise Problem(f"event {seq}: signed by key id {sig['keyId']}, but event {registration} registers key id {kid:08x}")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(b64(sig["signature"]), chain_hash)
    except InvalidSignature:
        raise Problem(f"event {seq}: the signature by {name} does not verify over its chain hash (the event or its predecessor hash was changed)")
    return seq, name, event["actor"], registration, reg.get("actor")


def self_test():
    """This script's hashing and note code against published vectors, so that an auditor can
    see it agrees with implementations nobody here wrote."""
    # RFC 6962 reference tree (transparency-dev/merkle cmd/proofgen/main.go): 8 leaves, root of
    # the whole tree, and the inclusion proof of leaf 6 (1-based) in the tree of 8.
    leaves = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243",
                                         "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]
    root8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
    proof = [bytes.fromhex(h) for h in [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]]
    assert verify_inclusion(leaf_hash(leaves[5]), 5, 8, proof, root8), "RFC 6962 inclusion vector"
    assert not verify_inclusion(leaf_hash(leaves[4]), 5, 8, proof, root8), "a wrong leaf must fail"
    # golang.org/x/mod/sumdb/note note_test.go: PeterNeumann's verifier key and signed note.
    name, kid, key = parse_verifier("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    note = ("If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n"
            "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
    text, signatures = open_note(note.encode())
    assert verified_keys(text, signatures, [(name, kid, key)]) == [(name, kid, key)], "Go signed-note vector"
    try:
        verified_keys(text.replace("cryptography", "blockchains"), signatures, [(name, kid, key)])
        raise AssertionError("a changed note must fail")
    except Problem:
        pass
    print("self-test passed: RFC 6962 inclusion vector, Go signed-note key id and signature")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    parser = argparse.ArgumentParser(description="Verify a Policy Ledger audit pack offline.")
    parser.add_argument("folder")
    parser.add_argument("--key", action="append", default=[], help="a trusted verifier key NAME+KEYID+BASE64 (repeatable)")
    parser.add_argument("--quorum", type=int, default=1, help="how many of the --key keys must have signed")
    parser.add_argument("--origin", help="the origin the checkpoint must name (policy-ledger/LEDGER-ID)")
    args = parser.parse_args()
    try:
        origin, size, signers, seqs, signed = verify_pack(args.folder, args.key, args.quorum, args.origin)
    except (Problem, OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        print(f"INVALID: {error}", file=sys.stderr)
        return 1
    print(f"valid: events {', '.join(map(str, seqs))} are in the tree of {size} events of {origin}, "
          f"whose checkpoint is signed by {', '.join(signers)}")
    for seq, name, actor, registration, registrar in signed:
        print(f"signed: event {seq} by {actor} with key {name} (registered by event {registration}, recorded by {registrar})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
