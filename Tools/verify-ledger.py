#!/usr/bin/env python3
"""An independent verifier of a Policy Ledger, written from ARCHITECTURE.md alone.

It reads the `events` database with LMDB's own `mdb_dump` (Debian package lmdb-utils), and for
every record checks: the sequence numbers run 1, 2, 3… with no gap; the record's previous hash is
the hash of the record before (32 zero bytes for event 1); SHA-256(previous hash ‖ canonical bytes)
equals the stored hash; and parsing the canonical bytes and writing them back by ARCHITECTURE.md's
rules gives the same bytes (so the encoding, not only the hash, is independently reproducible).

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


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    dump = subprocess.run(["mdb_dump", "-s", "events", sys.argv[1]], capture_output=True, text=True)
    if dump.returncode != 0:
        print(f"error: mdb_dump failed: {dump.stderr.strip()}", file=sys.stderr)
        return 2
    lines = dump.stdout.split("\n")
    body = lines[lines.index("HEADER=END") + 1: lines.index("DATA=END")]
    previous = bytes(32)
    expected = 1
    for key_line, value_line in zip(body[0::2], body[1::2]):
        key, record = unhex(key_line), unhex(value_line)
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
        previous = digest
        expected += 1
    print(f"{expected - 1}:{previous.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
