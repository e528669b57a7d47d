-- The public status page: each component's current state and the incident
-- that set it, every change of state (for the 90-day history), and the
-- updates responders published (`/incident update --public`).
CREATE TABLE status_components (
    name        TEXT    PRIMARY KEY,
    state       TEXT    NOT NULL,
    incident_id INTEGER REFERENCES incidents (id),
    updated_at  INTEGER NOT NULL
);
CREATE TABLE status_component_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    incident_id INTEGER REFERENCES incidents (id),
    at          INTEGER NOT NULL
);
CREATE INDEX status_component_history_at ON status_component_history (at);
CREATE TABLE status_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    status      TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX status_updates_incident ON status_updates (incident_id, at);
