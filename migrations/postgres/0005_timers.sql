-- Durable timers: claimed atomically when due (FOR UPDATE SKIP LOCKED), fired
-- in the same transaction as their effect (outbox rows), so each fires exactly
-- once across restarts and replicas. Recurring timers are moved to
-- now + every_ms when they fire, so a long outage yields one catch-up firing.
CREATE TABLE timers (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT        NOT NULL,
    incident_id BIGINT      NOT NULL REFERENCES incidents (id),
    -- What within the incident it is about (an action item id), or 0.
    subject_id  BIGINT      NOT NULL DEFAULT 0,
    due_at      TIMESTAMPTZ NOT NULL,
    every_ms    BIGINT,
    state       TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'cancelled')),
    fired       INTEGER     NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX timers_due ON timers (due_at) WHERE state = 'pending';
-- One live timer of each kind per incident and subject: scheduling again re-times it.
CREATE UNIQUE INDEX timers_one_pending ON timers (kind, incident_id, subject_id) WHERE state = 'pending';
