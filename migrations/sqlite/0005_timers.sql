-- Durable timers: claimed atomically when due, fired in the same transaction
-- as their effect (outbox rows), so each fires exactly once across restarts.
-- Recurring timers are moved to now + every_ms when they fire, so a long
-- outage yields one catch-up firing, not one per missed slot.
CREATE TABLE timers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    -- What within the incident it is about (an action item id), or 0.
    subject_id  INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    every_ms    INTEGER,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'cancelled')),
    fired       INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
CREATE INDEX timers_due ON timers (state, due_at);
-- One live timer of each kind per incident and subject: scheduling again re-times it.
CREATE UNIQUE INDEX timers_one_pending ON timers (kind, incident_id, subject_id) WHERE state = 'pending';
