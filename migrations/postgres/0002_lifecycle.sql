-- Lifecycle timestamps for metrics (MTTA, time to mitigate, MTTR) and the
-- resolution summary. Severity history lives in the timeline.
ALTER TABLE incidents
    ADD COLUMN acknowledged_at TIMESTAMPTZ,
    ADD COLUMN mitigated_at    TIMESTAMPTZ,
    ADD COLUMN resolved_at     TIMESTAMPTZ,
    ADD COLUMN reopened_at     TIMESTAMPTZ,
    ADD COLUMN summary         TEXT;
