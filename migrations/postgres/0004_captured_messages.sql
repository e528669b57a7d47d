-- Messages captured into an incident's timeline by pinning them or reacting
-- with the timeline emoji; one row per message however often it is captured.
CREATE TABLE captured_messages (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT      NOT NULL REFERENCES incidents (id),
    channel_id  TEXT        NOT NULL,
    ts          TEXT        NOT NULL,
    body        TEXT,
    author      TEXT,
    permalink   TEXT,
    captured_by TEXT        NOT NULL,
    captured_at TIMESTAMPTZ NOT NULL,
    source      TEXT        NOT NULL,
    deleted_at  TIMESTAMPTZ,
    UNIQUE (channel_id, ts)
);
