-- Messages captured into an incident's timeline by pinning them or reacting
-- with the timeline emoji; one row per message however often it is captured.
CREATE TABLE captured_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    channel_id  TEXT    NOT NULL,
    ts          TEXT    NOT NULL,
    body        TEXT,
    author      TEXT,
    permalink   TEXT,
    captured_by TEXT    NOT NULL,
    captured_at INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    deleted_at  INTEGER,
    UNIQUE (channel_id, ts)
);
