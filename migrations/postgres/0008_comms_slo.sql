-- The comms SLO: each gap between customer updates (or from when the cadence
-- started) against the cadence promised by the severity at the time.
ALTER TABLE incidents ADD COLUMN cadence_anchor_at TIMESTAMPTZ;
CREATE TABLE comms_gaps (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    severity    TEXT NOT NULL,
    promised_ms BIGINT NOT NULL,
    actual_ms   BIGINT NOT NULL,
    breached    BOOLEAN NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX comms_gaps_at ON comms_gaps (at);
