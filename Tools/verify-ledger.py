#!/usr/bin/env python3
"""An independent verifier of a Policy Ledger, written from ARCHITECTURE.md alone.

It reads the `events` database with LMDB's own `mdb_dump` (Debian package lmdb-utils), and for
every record checks: the sequence numbers run 1, 2, 3… with no gap; the record's previous hash is
the hash of the record before (32 zero bytes for event 1); SHA-256(previous hash ‖ canonical bytes)
equals the stored hash; and parsing the canonical bytes and writing them back by ARCHITECTURE.md's
rules gives the same bytes (so the encoding, not only the hash, is independently reproducible).

Then actors' signatures ("Actors who sign"): it reads the `signatures` database, replays the
actor.key-registered, actor.key-revoked and ledger.signing-policy events in sequence order, and
checks that every stored signature is Ed25519 over its event's chain hash by a key registered to
the event's actor at that point (registered before it, not revoked before it), and that no event
after a policy requiring signatures lacks one. That part needs Python's `cryptography` package
(Debian: python3-cryptography), and only when the ledger holds signatures.

Usage: Tools/verify-ledger.py LEDGER_FOLDER      exit 0 when valid, 1 with the first bad event.
"""
import hashlib
import json
import subprocess
import sys
import unicodedata


def unhex(line: str) -> bytes:
    """mdb_dump (without -p) writes each key and value as one line of hex digits after a space.
    (Its printable format, -p, does not escape a backslash in LMDB 0.9.24, so it is ambiguous.)"""
    return bytes.fromhex(line.strip())


def canonical(value) -> bytes:
    def nfc(o):
        if isinstance(o, str):
            return unicodedata.normalize("NFC", o)
        if isinstance(o, dict):
            return {nfc(k): nfc(v) for k, v in o.items()}
        if isinstance(o, list):
            return [nfc(x) for x in o]
        if isinstance(o, float):
            raise ValueError("binary floating-point number in canonical bytes")
        return o
    # Sorting by code point equals sorting by UTF-8 bytes; json.dumps escapes exactly the
    # characters ARCHITECTURE.md lists (", \\, controls) and nothing else with ensure_ascii=False.
    return json.dumps(nfc(value), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def dump(folder: str, database: str):
    """(key, value) pairs of one named database, or None when the ledger has no such database."""
    run = subprocess.run(["mdb_dump", "-s", database, folder], capture_output=True, text=True)
    if run.returncode != 0:
        if "MDB_NOTFOUND" in run.stderr:
            return None
        raise RuntimeError(f"mdb_dump failed: {run.stderr.strip()}")
    lines = run.stdout.split("\n")
    body = lines[lines.index("HEADER=END") + 1: lines.index("DATA=END")]
    return [(unhex(k), unhex(v)) for k, v in zip(body[0::2], body[1::2])]


def parse_verifier(text: str):
    """NAME+KEYID+BASE64(0x01 || 32-byte Ed25519 key), the C2SP signed-note verifier key."""
    import base64
    name, hexid, key64 = text.split("+", 2)
    raw = base64.b64decode(key64, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError(f"{text!r} is not an Ed25519 verifier key")
    kid = int.from_bytes(hashlib.sha256(name.encode() + b"\n\x01" + raw[1:]).digest()[:4], "big")
    if f"{kid:08x}" != hexid:
        raise ValueError(f"{text!r}: its key id does not match its name and key")
    return name, kid, raw[1:]


def check_signatures(folder: str, events) -> int:
    """events: (seq, actor, type, payload, chain hash) in sequence order. Prints failures; returns
    how many there were."""
    stored = {}
    failures = 0
    for k, v in dump(folder, "signatures") or []:
        if len(k) != 8:
            print(f"the signatures database holds a key of {len(k)} bytes ({k.hex()}), not a sequence number")
            failures += 1
            continue
        stored[int.from_bytes(k, "big")] = v
    if stored:
        try:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError:
            print("error: the ledger holds signatures; checking them needs Python's cryptography package (Debian: python3-cryptography)", file=sys.stderr)
            raise SystemExit(2)
    registrations = []  # [actor, (name, kid, key), registered seq, revoked seq or None]
    required_since = None
    signed = unsigned = 0
    for seq, actor, kind, payload, chain_hash in events:
        value = stored.pop(seq, None)
        problem = None
        if value is None:
            if required_since is not None:
                problem = f"unsigned, although the policy set by event {required_since} requires signatures"
            else:
                unsigned += 1
        elif len(value) != 69 or value[0] != 1:
            problem = "its stored signature is not 0x01, a 4-byte key id and 64 bytes"
        else:
            kid, signature = int.from_bytes(value[1:5], "big"), value[5:]
            problem = f"signed by key id {kid:08x}, which no key registered to {actor!r} at that point has"
            for r_actor, (name, r_kid, key), registered, revoked in registrations:
                if r_actor == actor and r_kid == kid and registered < seq and (revoked is None or seq <= revoked):
                    try:
                        Ed25519PublicKey.from_public_bytes(key).verify(signature, chain_hash)
                        problem = None
                        break
                    except InvalidSignature:
                        problem = f"its signature by {name} does not verify over its chain hash"
            if problem is None:
                signed += 1
        if problem:
            print(f"event {seq}: {problem}")
            failures += 1
        # The event's own effect applies from the next event on.
        try:
            if kind == "actor.key-registered":
                registrations.append([payload["actor"], parse_verifier(payload["key"]), seq, None])
            elif kind == "actor.key-revoked":
                key = parse_verifier(payload["key"])
                for r in registrations:
                    if r[0] == payload["actor"] and r[1] == key and r[3] is None:
                        r[3] = seq
            elif kind == "ledger.signing-policy":
                required_since = seq if payload["signatures"] == "required" else None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            print(f"event {seq}: a {kind} event whose payload does not read: {error}")
            failures += 1
    for seq in sorted(stored):
        print(f"event {seq}: a signature is stored for it, but the log holds no such event")
        failures += 1
    print(f"signatures: {signed} signed by registered keys, {unsigned} unsigned, {failures} failing")
    return failures


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        entries = dump(sys.argv[1], "events")
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if entries is None:
        print(f"error: {sys.argv[1]} has no events database", file=sys.stderr)
        return 2
    previous = bytes(32)
    expected = 1
    events = []
    for key, record in entries:
        seq = int.from_bytes(key, "big")
        if seq != expected:
            print(f"event {expected}: missing (next key is {seq})")
            return 1
        if record[0] != 1 or record[1:33] != previous:
            print(f"event {seq}: header or previous-hash link is wrong")
            return 1
        payload = record[65:]
        digest = hashlib.sha256(previous + payload).digest()
        if digest != record[33:65]:
            print(f"event {seq}: stored hash does not match SHA-256 of its bytes")
            return 1
        parsed = json.loads(payload.decode("utf-8"))
        if parsed.get("seq") != seq:
            print(f"event {seq}: its seq field says {parsed.get('seq')}")
            return 1
        if canonical(parsed) != payload:
            print(f"event {seq}: bytes are not in canonical form")
            return 1
        events.append((seq, parsed.get("actor"), parsed.get("type"), parsed.get("payload"), digest))
        previous = digest
        expected += 1
    print(f"{expected - 1}:{previous.hex()}")
    return 1 if check_signatures(sys.argv[1], events) else 0


if __name__ == "__main__":
    sys.exit(main())
