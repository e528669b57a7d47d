-- Follow-up work agreed during an incident (`/incident action`).
CREATE TABLE action_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    body        TEXT    NOT NULL,
    owner       TEXT,
    due_at      INTEGER,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    done_at     INTEGER
);
CREATE INDEX action_items_incident ON action_items (incident_id);
