-- Follow-up work agreed during an incident (`/incident action`).
CREATE TABLE action_items (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT      NOT NULL REFERENCES incidents (id),
    body        TEXT        NOT NULL,
    owner       TEXT,
    due_at      TIMESTAMPTZ,
    created_by  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    done_at     TIMESTAMPTZ
);
CREATE INDEX action_items_incident ON action_items (incident_id);
