-- The comms SLO: each gap between customer updates (or from when the cadence
-- started) against the cadence promised by the severity at the time.
ALTER TABLE incidents ADD COLUMN cadence_anchor_at INTEGER;
CREATE TABLE comms_gaps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    severity    TEXT NOT NULL,
    promised_ms BIGINT NOT NULL,
    actual_ms   BIGINT NOT NULL,
    breached    INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX comms_gaps_at ON comms_gaps (at);
