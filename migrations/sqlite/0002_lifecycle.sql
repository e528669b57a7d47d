-- Lifecycle timestamps for metrics (MTTA, time to mitigate, MTTR) and the
-- resolution summary. Severity history lives in the timeline.
ALTER TABLE incidents ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE incidents ADD COLUMN mitigated_at INTEGER;
ALTER TABLE incidents ADD COLUMN resolved_at INTEGER;
ALTER TABLE incidents ADD COLUMN reopened_at INTEGER;
ALTER TABLE incidents ADD COLUMN summary TEXT;
