#!/usr/bin/env python3
"""Checks actors' signatures read from a Policy Ledger's PostgreSQL replica, written from
ARCHITECTURE.md alone (no Swift code). PostgreSQL has no Ed25519 of its own, so the replica holds
the signatures and a view of the keys registered (event_signatures); this does the arithmetic.

It reads, as CSV on standard input (or from FILE), the rows of ReplicaSchema.signatureRows:

  psql "$REPLICA_URL" --csv -t -c "SELECT s.ledger_id, s.seq, s.signature_key_id, s.signing_key,
      s.key_actor, encode(s.signature, 'hex'), encode(e.prev, 'hex'), encode(e.canonical, 'hex')
    FROM event_signatures s JOIN events e USING (ledger_id, seq)
    WHERE s.signature IS NOT NULL ORDER BY s.ledger_id, s.seq" | Tools/verify-replica-signatures.py

and for each signed event checks: a key was registered under its key id, and in force, at that
point of the log (signing_key is not empty: the view applies the registration and revocation
rules); the verifier key NAME+KEYID+BASE64 is Ed25519 and its key id is the first 4 bytes of
SHA-256(name || 0x0A || 0x01 || public key), and the signature's; the key is registered to the
event's own actor (the "actor" of the canonical bytes); and the Ed25519 signature verifies over
the chain hash SHA-256(prev || canonical), recomputed here. Whether prev links to the event before
is the chain check query's business (README).

Needs Python's `cryptography` package (Debian: python3-cryptography).
Usage: Tools/verify-replica-signatures.py [FILE]   exit 0 when every row holds, 1 when one does
not (each is named), 2 for unreadable input or a missing library.
"""
import base64
import csv
import hashlib
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover
    print("error: the Python package 'cryptography' is needed for Ed25519 (Debian: apt-get install python3-cryptography)", file=sys.stderr)
    sys.exit(2)


def problem(row):
    """Why one row's signature does not hold, or None."""
    _, _, signature_key_id, signing_key, key_actor, signature, prev, canonical = row
    if not signing_key:
        return f"no key with id {signature_key_id} was registered, and not revoked, before it"
    name, hexid, key64 = signing_key.split("+", 2)
    raw = base64.b64decode(key64, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        return f"the key {name}+{hexid} is not Ed25519 (0x01 and 32 bytes)"
    if hashlib.sha256(name.encode() + b"\n\x01" + raw[1:]).digest()[:4].hex() != hexid or hexid != signature_key_id:
        return f"the key {name}+{hexid} does not have the key id {signature_key_id}"
    canonical = bytes.fromhex(canonical)
    actor = json.loads(canonical.decode("utf-8"))["actor"]
    if actor != key_actor:
        return f"the key {name}+{hexid} is registered to {key_actor!r}, not to its actor {actor!r}"
    chain_hash = hashlib.sha256(bytes.fromhex(prev) + canonical).digest()
    try:
        Ed25519PublicKey.from_public_bytes(raw[1:]).verify(bytes.fromhex(signature), chain_hash)
    except InvalidSignature:
        return f"its signature by {name}+{hexid} does not verify over its chain hash {chain_hash.hex()}"
    return None


def main() -> int:
    csv.field_size_limit(1 << 30)  # a canonical line may be 1 MiB, 2 MiB in hex
    source = open(sys.argv[1], newline="", encoding="utf-8") if len(sys.argv) > 1 else sys.stdin
    good, bad = 0, 0
    try:
        for row in csv.reader(source):
            if len(row) != 8:
                print(f"error: a row has {len(row)} columns, not 8 (ledger_id, seq, signature_key_id, signing_key, "
                      "key_actor, signature, prev, canonical); was it printed with psql --csv -t?", file=sys.stderr)
                return 2
            try:
                reason = problem(row)
            except (ValueError, KeyError) as error:
                reason = f"its row cannot be read: {error}"
            if reason:
                bad += 1
                print(f"ledger {row[0]} event {row[1]}: {reason}")
            else:
                good += 1
    except (csv.Error, UnicodeDecodeError) as error:
        print(f"error: the input is not CSV: {error}", file=sys.stderr)
        return 2
    print(f"{good} signature{'s' if good != 1 else ''} verified, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
