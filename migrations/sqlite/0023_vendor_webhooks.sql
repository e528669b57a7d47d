-- Webhooks from outbound integrations' systems (Jira's issue updates) go
-- through the inbox like Slack's requests and alerts. SQLite cannot change a
-- CHECK constraint, so the table is rebuilt, rows kept.
CREATE TABLE inbox_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('command', 'event', 'interaction', 'alert', 'webhook')),
    dedupe_key    TEXT    NOT NULL UNIQUE,
    payload       TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    available_at  INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    processed_at  INTEGER
);
INSERT INTO inbox_new (id, kind, dedupe_key, payload, received_at, available_at, attempts, last_error, processed_at)
    SELECT id, kind, dedupe_key, payload, received_at, available_at, attempts, last_error, processed_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;
CREATE INDEX inbox_pending ON inbox (processed_at, available_at, id);

-- Finding the exported action item of a Jira issue named in a webhook.
CREATE INDEX jira_issues_key ON jira_issues (issue_key);
