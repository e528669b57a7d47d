-- The alert ledger: every alert monitoring sent, one row per (source,
-- dedup key), with when it was first and last seen, how many deliveries
-- named it, what it is linked to, and its latest raw payload.
CREATE TABLE alerts (
    id             BIGSERIAL PRIMARY KEY,
    source         TEXT NOT NULL,
    dedup_key      TEXT NOT NULL,
    group_key      TEXT NOT NULL,
    status         TEXT NOT NULL,
    title          TEXT NOT NULL,
    severity_label TEXT,
    labels         JSONB NOT NULL,
    link           TEXT,
    started_at     TIMESTAMPTZ,
    first_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    resolved_at    TIMESTAMPTZ,
    deliveries     BIGINT NOT NULL DEFAULT 1,
    incident_id    BIGINT REFERENCES incidents (id),
    ticket_id      BIGINT REFERENCES failure_tickets (id),
    action         TEXT NOT NULL,
    raw            JSONB NOT NULL,
    UNIQUE (source, dedup_key)
);
CREATE INDEX alerts_group ON alerts (source, group_key);
CREATE INDEX alerts_incident ON alerts (incident_id);

-- Alert deliveries go through the inbox like Slack's requests.
ALTER TABLE inbox DROP CONSTRAINT inbox_kind_check;
ALTER TABLE inbox ADD CONSTRAINT inbox_kind_check CHECK (kind IN ('command', 'event', 'interaction', 'alert'));
