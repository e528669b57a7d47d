-- Recurring jobs on a cron schedule (the manager digest). The next fire time
-- is stored, not kept in memory, so restarts and replicas agree on it; the
-- fingerprint notices a changed schedule in the configuration.
CREATE TABLE recurring_jobs (
    name          TEXT PRIMARY KEY,
    fingerprint   TEXT NOT NULL,
    next_fire_at  TIMESTAMPTZ NOT NULL,
    last_fired_at TIMESTAMPTZ
);
