-- Every severity an incident had and since when: the post-mortem's impact
-- section, downtime cost per severity and metrics by worst severity.
CREATE TABLE severity_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    severity    TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX severity_changes_incident ON severity_changes (incident_id, at);
-- Incidents from before this table: their current severity, since declaration.
INSERT INTO severity_changes (incident_id, severity, at)
SELECT id, severity, declared_at FROM incidents WHERE severity IS NOT NULL;
CREATE INDEX incidents_declared_at ON incidents (declared_at);
