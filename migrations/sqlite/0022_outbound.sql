-- Outbound integrations. Alerts Rebound raised in other alerting systems (PagerDuty, Zenduty) for
-- an incident: one row per opening of the incident, keyed by the dedup key
-- the vendor deduplicates on, so retries never page twice. The times say
-- which events were recorded (in the transaction of the change that caused
-- them); delivered_at / last_error say what the vendor answered.
CREATE TABLE paging_alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    system          TEXT    NOT NULL,
    dedup_key       TEXT    NOT NULL,
    triggered_at    INTEGER NOT NULL,
    delivered_at    INTEGER,
    acknowledged_at INTEGER,
    resolved_at     INTEGER,
    last_error      TEXT,
    UNIQUE (system, dedup_key)
);
CREATE INDEX paging_alerts_incident ON paging_alerts (incident_id);

-- The Statuspage.io incident mirroring a Rebound incident. The row is
-- written when the first public change is recorded (so a resolve recorded
-- before Statuspage answered still follows); statuspage_id once it answered.
CREATE TABLE statuspage_incidents (
    incident_id   INTEGER PRIMARY KEY REFERENCES incidents (id),
    statuspage_id TEXT,
    created_at    INTEGER NOT NULL
);

-- Jira issues exported from action items and failure tickets. `subject` is
-- `action:<id>` or `ticket:<id>`; `label` is the unique label the issue
-- carries, by which a retry finds an issue whose creation was not answered.
CREATE TABLE jira_issues (
    subject      TEXT    PRIMARY KEY,
    label        TEXT    NOT NULL UNIQUE,
    issue_key    TEXT,
    issue_url    TEXT,
    requested_at INTEGER NOT NULL
);

-- Rollbacks run from the card through GitHub Actions' workflow_dispatch.
-- request_id goes to the workflow as an input (and, by its run-name, into
-- the run's title), so a retry after an unknown outcome finds the run.
CREATE TABLE rollback_runs (
    request_id   TEXT    PRIMARY KEY,
    incident_id  INTEGER  NOT NULL REFERENCES incidents (id),
    service      TEXT    NOT NULL,
    requested_by TEXT    NOT NULL,
    requested_at INTEGER NOT NULL,
    run_url      TEXT
);
CREATE INDEX rollback_runs_incident ON rollback_runs (incident_id, service, requested_at);

-- Slack calls that keep up. priority: 0 replies and card edits, 1 channel
-- messages and other systems, 2 background reads, digests and backfills;
-- claimed in that order. coalesce_key: calls rendered when sent (the card,
-- the topic) are recorded once while one is still queued. origin_at: when
-- the command or event that caused the call was received (time-to-Slack).
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
ALTER TABLE outbox ADD COLUMN coalesce_key TEXT;
ALTER TABLE outbox ADD COLUMN origin_at INTEGER;
CREATE INDEX outbox_coalesce ON outbox (coalesce_key) WHERE coalesce_key IS NOT NULL;
