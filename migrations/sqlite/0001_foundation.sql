-- Foundation: inbox, incidents, timeline, outbox.
-- Times are INTEGER milliseconds since the Unix epoch (UTC): SQLite has no
-- native timestamp, and integers sort and compare correctly, which text
-- timestamps with variable precision do not.

-- Everything Slack sent that must not be lost, written before the 200.
-- dedupe_key makes Slack's retries and repeated deliveries harmless.
CREATE TABLE inbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('command', 'event', 'interaction')),
    dedupe_key    TEXT    NOT NULL UNIQUE,
    payload       TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    available_at  INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    processed_at  INTEGER
);
CREATE INDEX inbox_pending ON inbox (processed_at, available_at, id);

CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL,
    severity      TEXT    CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    status        TEXT    NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    private       INTEGER NOT NULL DEFAULT 0,
    declared_by   TEXT    NOT NULL,
    lead          TEXT,
    declared_at   INTEGER NOT NULL,
    channel_id    TEXT UNIQUE,
    channel_name  TEXT,
    card_ts       TEXT
);
CREATE INDEX incidents_status ON incidents (status);

-- Append-only history of an incident; the post-mortem is written from it.
CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    source      TEXT    NOT NULL
);
CREATE INDEX timeline_incident ON timeline (incident_id, at);

-- Slack Web API calls recorded in the same transaction as the state change
-- that caused them; the outbox worker sends them in id order per ordering_key.
-- Only the oldest unsent call of a key is 'pending' (claimable); the ones
-- behind it are 'waiting' and promoted one by one, so claiming never has to
-- scan past a long queue for one busy channel.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ordering_key    TEXT    NOT NULL,
    method          TEXT    NOT NULL,
    args            TEXT    NOT NULL,
    after_send      TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('waiting', 'pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    sent_at         INTEGER,
    last_error      TEXT,
    response        TEXT
);
CREATE INDEX outbox_by_key ON outbox (ordering_key, state, id);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
