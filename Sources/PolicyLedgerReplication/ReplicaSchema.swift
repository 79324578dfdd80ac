// The tables, functions and views a ledger's replica keeps in PostgreSQL. PostgreSQL holds a copy
// of the log: LMDB stays the only store and the source of the hashes. See ARCHITECTURE.md,
// "Scale-out: the change feed and PostgreSQL".

/// The SQL of the replica: what `replicate` creates (idempotently) in the target database, and
/// the query that recomputes the hash chain inside PostgreSQL.
public enum ReplicaSchema {
  /// A column the replicator reads or writes, and the `data_type` PostgreSQL's
  /// `information_schema.columns` gives for it.
  public struct Column: Sendable, Equatable {
    public let name: String
    public let dataType: String
  }

  /// The columns of `events`, checked before anything is written (a table changed by hand is
  /// refused, not written into).
  public static let eventColumns: [Column] = [
    .init(name: "ledger_id", dataType: "text"), .init(name: "seq", dataType: "bigint"),
    .init(name: "type", dataType: "text"), .init(name: "schema", dataType: "integer"),
    .init(name: "streams", dataType: "ARRAY"), .init(name: "effective", dataType: "text"),
    .init(name: "effective_first_day", dataType: "date"), .init(name: "recorded", dataType: "timestamp with time zone"),
    .init(name: "actor", dataType: "text"), .init(name: "source", dataType: "text"),
    .init(name: "payload", dataType: "jsonb"), .init(name: "canonical", dataType: "bytea"),
    .init(name: "prev", dataType: "bytea"), .init(name: "hash", dataType: "bytea"),
  ] + addedEventColumns.map(\.column)

  /// A column added to `events` after its first shape, and the statement that adds it to a
  /// replica created before.
  public struct AddedColumn: Sendable, Equatable {
    /// The column's name and type, as ``eventColumns`` checks them.
    public let column: Column
    /// `ALTER TABLE events ADD COLUMN IF NOT EXISTS …`.
    public let statement: String
  }

  /// The columns `events` gained after ``tables`` was first written, in order. A replica that
  /// lacks one gets it when `replicate` starts (run only then, so that an up-to-date replica's
  /// analysts are not made to wait for the lock an `ALTER TABLE` takes); the rows written before
  /// are filled by the run's backfill.
  ///
  /// - `signature_key_id`, `signature`: the actor's Ed25519 signature over the event's chain hash
  ///   (`hash`), as the ledger's `signatures` database holds it: the key id as 8 lower-case hex
  ///   digits and the 64-byte signature. Both `NULL` for an unsigned event.
  public static let addedEventColumns: [AddedColumn] = [
    .init(column: .init(name: "signature_key_id", dataType: "text"), statement: """
      ALTER TABLE events ADD COLUMN IF NOT EXISTS signature_key_id text CHECK (signature_key_id ~ '^[0-9a-f]{8}$')
      """),
    .init(column: .init(name: "signature", dataType: "bytea"), statement: """
      ALTER TABLE events ADD COLUMN IF NOT EXISTS signature bytea
        CHECK (length(signature) = 64) CHECK ((signature IS NULL) = (signature_key_id IS NULL))
      """),
  ]

  /// Indexes on the added columns, created (if missing) once they exist: the signed events of a
  /// ledger by key id (what a backfill counts, and what an analyst asks of one key).
  public static let addedIndexes = """
    CREATE INDEX IF NOT EXISTS events_signed_idx ON events (ledger_id, signature_key_id, seq) WHERE signature_key_id IS NOT NULL;
    """

  /// The columns of `ledgers`.
  public static let ledgerColumns: [Column] = [
    .init(name: "ledger_id", dataType: "text"), .init(name: "head_seq", dataType: "bigint"),
    .init(name: "head_hash", dataType: "bytea"), .init(name: "replicated_at", dataType: "timestamp with time zone"),
  ]

  /// The tables, as first written (``addedEventColumns`` are added after). `events` holds each
  /// event's envelope as typed columns, its payload as `jsonb`, and the exact canonical bytes
  /// with `prev` and `hash`, so that the chain can be recomputed in PostgreSQL. `ledgers` holds
  /// each ledger's replicated head.
  public static let tables = """
    CREATE TABLE IF NOT EXISTS events (
      ledger_id text NOT NULL,
      seq bigint NOT NULL CHECK (seq >= 1),
      type text NOT NULL,
      schema integer NOT NULL,
      streams text[] NOT NULL,
      effective text NOT NULL,
      effective_first_day date NOT NULL,
      recorded timestamptz NOT NULL,
      actor text NOT NULL,
      source text,
      payload jsonb NOT NULL,
      canonical bytea NOT NULL,
      prev bytea NOT NULL CHECK (length(prev) = 32),
      hash bytea NOT NULL CHECK (length(hash) = 32),
      PRIMARY KEY (ledger_id, seq)
    );
    CREATE INDEX IF NOT EXISTS events_type_idx ON events (ledger_id, type, seq);
    CREATE INDEX IF NOT EXISTS events_streams_idx ON events USING gin (streams);
    CREATE TABLE IF NOT EXISTS ledgers (
      ledger_id text PRIMARY KEY,
      head_seq bigint NOT NULL DEFAULT 0,
      head_hash bytea,
      replicated_at timestamptz
    );
    """

  /// Functions and views for analysts, derived with SQL from the events' `jsonb`: plain views,
  /// recomputed on every query, so they never disagree with `events`.
  ///
  /// - `ledger_first_day(text)`: the first day of an effective date or period (`2020-06-D1`,
  ///   `FY2020~`, `FY1996/FY2000`), as the ledger counts it.
  /// - `events_in_force`: every event that is not an amendment, with the payload and effective
  ///   date of its latest correction, `retracted` when it was withdrawn, `known_from` (when it
  ///   was recorded) and `amended_at` (when its latest amendment was).
  /// - `bodies`, `memberships`, `indicator_values`, `indicator_latest_values`: the bodies, the
  ///   seats (valid from the appointment's first day to the departure's), and the indicators'
  ///   observed values with their periods, valid-time and known-at columns.
  /// - `event_signatures`: every event with its signature (`NULL` when unsigned) and the key that
  ///   was registered under its key id at that point of the log, by the rules of ARCHITECTURE.md
  ///   ("Actors who sign"): the latest `actor.key-registered` before the event whose key has that
  ///   id, unless an `actor.key-revoked` of that key and actor came between (a revocation signs up
  ///   to itself). `signing_key` (`NAME+KEYID+BASE64`), `key_actor`, `key_registered_by` and
  ///   `key_revoked_by` (a revocation at or after the event, if any) are `NULL` when no key was in
  ///   force; `signer_is_actor` says whether the key's actor is the event's. PostgreSQL cannot
  ///   check Ed25519: whether the signature verifies is for the reader to check
  ///   (`Tools/verify-replica-signatures.py`, with ``signatureRows``).
  public static let views = """
    CREATE OR REPLACE FUNCTION ledger_first_day(effective text) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT AS $$
      SELECT CASE
        WHEN t ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN t::date
        WHEN t ~ '^[0-9]{4}-[0-9]{2}-D[123]$'
          THEN make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, (substr(t, 10, 1)::int - 1) * 10 + 1)
        WHEN t ~ '^[0-9]{4}-[0-9]{2}$' THEN make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1)
        WHEN t ~ '^FY[0-9]{4}$' THEN make_date(substr(t, 3, 4)::int, 4, 1)
        WHEN t ~ '^[0-9]{4}$' THEN make_date(t::int, 1, 1)
      END
      FROM (SELECT rtrim(split_part(effective, '/', 1), '~') AS t) AS s
    $$;

    CREATE OR REPLACE VIEW events_in_force AS
    SELECT e.ledger_id, e.seq, e.type, e.streams,
           coalesce(c.payload->>'effective', e.effective) AS effective,
           coalesce(ledger_first_day(c.payload->>'effective'), e.effective_first_day) AS effective_first_day,
           coalesce(c.payload->'payload', e.payload) AS payload,
           e.recorded AS known_from,
           greatest(c.recorded, r.recorded) AS amended_at,
           c.seq AS corrected_by,
           r.seq AS retracted_by,
           (r.seq IS NOT NULL) AS retracted
    FROM events e
    LEFT JOIN LATERAL (
      SELECT x.seq, x.recorded, x.payload FROM events x
      WHERE x.ledger_id = e.ledger_id AND x.type = 'event.corrected' AND (x.payload->>'corrects')::bigint = e.seq
      ORDER BY x.seq DESC LIMIT 1) c ON true
    LEFT JOIN LATERAL (
      SELECT x.seq, x.recorded FROM events x
      WHERE x.ledger_id = e.ledger_id AND x.type = 'event.retracted' AND (x.payload->>'retracts')::bigint = e.seq
      ORDER BY x.seq DESC LIMIT 1) r ON true
    WHERE e.type NOT IN ('event.corrected', 'event.retracted');

    CREATE OR REPLACE VIEW bodies AS
    SELECT b.ledger_id, b.payload->>'body' AS body,
           b.payload->'name'->>'ja' AS name_ja, b.payload->'name'->>'en' AS name_en,
           b.payload->>'kind' AS kind, b.payload->>'parent' AS parent,
           b.effective_first_day AS valid_from,
           (SELECT min(d.effective_first_day) FROM events_in_force d
             WHERE d.ledger_id = b.ledger_id AND d.type = 'body.dissolved' AND NOT d.retracted
               AND d.payload->>'body' = b.payload->>'body') AS valid_to,
           b.seq AS established_seq, b.known_from
    FROM events_in_force b
    WHERE b.type = 'body.established' AND NOT b.retracted;

    CREATE OR REPLACE VIEW memberships AS
    SELECT a.ledger_id, a.payload->>'body' AS body, a.payload->>'person' AS person,
           a.payload->'name'->>'ja' AS name_ja, a.payload->'name'->>'en' AS name_en,
           a.payload->>'role' AS role,
           ARRAY(SELECT jsonb_array_elements_text(a.payload->'affiliations')) AS affiliations,
           a.effective AS appointed, a.effective_first_day AS valid_from,
           d.effective_first_day AS valid_to,
           a.seq AS appointed_seq, a.known_from, d.seq AS departed_seq, d.known_from AS departure_known_from
    FROM events_in_force a
    LEFT JOIN LATERAL (
      SELECT x.seq, x.effective_first_day, x.known_from FROM events_in_force x
      WHERE x.ledger_id = a.ledger_id AND x.type = 'member.departed' AND NOT x.retracted
        AND x.payload->>'body' = a.payload->>'body' AND x.payload->>'person' = a.payload->>'person'
        AND (x.effective_first_day, x.seq) >= (a.effective_first_day, a.seq)
      ORDER BY x.effective_first_day, x.seq LIMIT 1) d ON true
    WHERE a.type = 'member.appointed' AND NOT a.retracted;

    CREATE OR REPLACE VIEW indicator_values AS
    SELECT o.ledger_id, o.payload->>'indicator' AS indicator,
           o.payload->>'value' AS value_text, (o.payload->>'value')::numeric AS value,
           o.payload->>'unit' AS unit, o.payload->>'period' AS period,
           coalesce(ledger_first_day(o.payload->>'period'), o.effective_first_day) AS period_first_day,
           o.payload->>'note' AS note,
           o.effective, o.effective_first_day AS valid_from,
           o.seq, o.known_from, o.amended_at, o.corrected_by
    FROM events_in_force o
    WHERE o.type = 'indicator.observed' AND NOT o.retracted;

    CREATE OR REPLACE VIEW indicator_latest_values AS
    SELECT DISTINCT ON (ledger_id, indicator) *
    FROM indicator_values
    ORDER BY ledger_id, indicator, period_first_day DESC, valid_from DESC, seq DESC;

    -- Keys and actors are read from the canonical bytes (which the chain check covers), never
    -- from the derived payload or actor columns, which a hand edit could change unseen.
    CREATE OR REPLACE VIEW event_signatures AS
    SELECT e.ledger_id, e.seq, e.type, e.actor, e.hash, e.signature_key_id, e.signature,
           k.key AS signing_key, k.actor AS key_actor, k.seq AS key_registered_by, k.revoked_by AS key_revoked_by,
           (k.actor = ea.actor) AS signer_is_actor
    FROM events e
    LEFT JOIN LATERAL (
      SELECT convert_from(e.canonical, 'UTF8')::jsonb->>'actor' AS actor WHERE e.signature_key_id IS NOT NULL) ea ON true
    LEFT JOIN LATERAL (
      SELECT r.seq, rp.key, rp.actor, v.seq AS revoked_by
      FROM events r
      CROSS JOIN LATERAL (
        SELECT c->'payload'->>'key' AS key, c->'payload'->>'actor' AS actor
        FROM (SELECT convert_from(r.canonical, 'UTF8')::jsonb AS c) AS j) rp
      LEFT JOIN LATERAL (
        SELECT x.seq FROM events x
        CROSS JOIN LATERAL (SELECT convert_from(x.canonical, 'UTF8')::jsonb->'payload' AS p) xp
        WHERE x.ledger_id = r.ledger_id AND x.type = 'actor.key-revoked' AND x.seq > r.seq
          AND xp.p->>'key' = rp.key AND xp.p->>'actor' = rp.actor
        ORDER BY x.seq LIMIT 1) v ON true
      WHERE e.signature_key_id IS NOT NULL
        AND r.ledger_id = e.ledger_id AND r.type = 'actor.key-registered' AND r.seq < e.seq
        AND split_part(rp.key, '+', 2) = e.signature_key_id
        AND (v.seq IS NULL OR v.seq >= e.seq)
      ORDER BY (rp.actor = ea.actor) DESC, r.seq DESC LIMIT 1) k ON true;
    """

  /// The rows `Tools/verify-replica-signatures.py` reads (as `psql --csv -t` prints them): for
  /// each signed event, `ledger_id`, `seq`, `signature_key_id`, `signing_key`, `key_actor`, and the
  /// signature, `prev` and `canonical` in hex, so that the tool recomputes the chain hash, reads the
  /// actor from the canonical bytes and checks the Ed25519 signature by the registered key.
  public static let signatureRows = """
    SELECT s.ledger_id, s.seq, s.signature_key_id, s.signing_key, s.key_actor,
           encode(s.signature, 'hex'), encode(e.prev, 'hex'), encode(e.canonical, 'hex')
    FROM event_signatures s JOIN events e USING (ledger_id, seq)
    WHERE s.signature IS NOT NULL
    ORDER BY s.ledger_id, s.seq
    """

  /// Recomputes the hash chain inside PostgreSQL: one row per ledger, with the number of events,
  /// the first sequence number whose hash or link fails (`NULL` when none), and whether the
  /// `ledgers` head matches the last event. `sha256(prev || canonical)` must equal `hash`, each
  /// `prev` must be the hash of the event before (32 zero bytes for event 1), and the sequence
  /// numbers must run from 1 without a gap.
  public static let chainCheck = """
    SELECT l.ledger_id, count(e.seq) AS events,
           min(e.seq) FILTER (WHERE e.hash <> sha256(e.prev || e.canonical)
                              OR e.prev <> coalesce(e.before, decode(repeat('00', 32), 'hex'))
                              OR e.seq <> e.position) AS first_bad_seq,
           (l.head_seq = coalesce(max(e.seq), 0) AND l.head_hash IS NOT DISTINCT FROM
              (SELECT h.hash FROM events h WHERE h.ledger_id = l.ledger_id AND h.seq = l.head_seq)) AS head_matches
    FROM ledgers l
    LEFT JOIN (
      SELECT ledger_id, seq, prev, canonical, hash,
             lag(hash) OVER w AS before, row_number() OVER w AS position
      FROM events WINDOW w AS (PARTITION BY ledger_id ORDER BY seq)) e ON e.ledger_id = l.ledger_id
    GROUP BY l.ledger_id, l.head_seq, l.head_hash
    ORDER BY l.ledger_id
    """
}
