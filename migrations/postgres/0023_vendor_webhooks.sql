-- Webhooks from outbound integrations' systems (Jira's issue updates) go
-- through the inbox like Slack's requests and alerts.
ALTER TABLE inbox DROP CONSTRAINT inbox_kind_check;
ALTER TABLE inbox ADD CONSTRAINT inbox_kind_check CHECK (kind IN ('command', 'event', 'interaction', 'alert', 'webhook'));

-- Finding the exported action item of a Jira issue named in a webhook.
CREATE INDEX jira_issues_key ON jira_issues (issue_key);
