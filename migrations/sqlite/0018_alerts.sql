-- The alert ledger: every alert monitoring sent, one row per (source,
-- dedup key), with when it was first and last seen, how many deliveries
-- named it, what it is linked to, and its latest raw payload.
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source         TEXT NOT NULL,
    dedup_key      TEXT NOT NULL,
    group_key      TEXT NOT NULL,
    status         TEXT NOT NULL,
    title          TEXT NOT NULL,
    severity_label TEXT,
    labels         TEXT NOT NULL,
    link           TEXT,
    started_at     INTEGER,
    first_seen_at  INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    resolved_at    INTEGER,
    deliveries     INTEGER NOT NULL DEFAULT 1,
    incident_id    INTEGER REFERENCES incidents (id),
    ticket_id      INTEGER REFERENCES failure_tickets (id),
    action         TEXT NOT NULL,
    raw            TEXT NOT NULL,
    UNIQUE (source, dedup_key)
);
CREATE INDEX alerts_group ON alerts (source, group_key);
CREATE INDEX alerts_incident ON alerts (incident_id);

-- Alert deliveries go through the inbox like Slack's requests. SQLite
-- cannot change a CHECK constraint, so the table is rebuilt, rows kept.
CREATE TABLE inbox_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('command', 'event', 'interaction', 'alert')),
    dedupe_key    TEXT    NOT NULL UNIQUE,
    payload       TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    available_at  INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    processed_at  INTEGER
);
INSERT INTO inbox_new (id, kind, dedupe_key, payload, received_at, available_at, attempts, last_error, processed_at)
    SELECT id, kind, dedupe_key, payload, received_at, available_at, attempts, last_error, processed_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;
CREATE INDEX inbox_pending ON inbox (processed_at, available_at, id);
