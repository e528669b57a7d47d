-- Failure tickets: any message flagged with the failure emoji, to be owned,
-- analysed and learned from. One ticket per message (channel + ts), however
-- many people react and however often Slack retries.
CREATE TABLE failure_tickets (
    id                BIGSERIAL PRIMARY KEY,
    channel_id        TEXT NOT NULL,
    ts                TEXT NOT NULL,
    thread_ts         TEXT,
    body              TEXT,
    author            TEXT,
    permalink         TEXT,
    reporter          TEXT NOT NULL,
    captured_at       TIMESTAMPTZ NOT NULL,
    incident_id       BIGINT REFERENCES incidents (id),
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'triaged', 'actioned', 'closed')),
    owner             TEXT,
    lesson            TEXT,
    closed_at         TIMESTAMPTZ,
    source_deleted_at TIMESTAMPTZ,
    UNIQUE (channel_id, ts)
);
CREATE INDEX failure_tickets_status ON failure_tickets (status);
CREATE TABLE failure_ticket_tags (
    ticket_id BIGINT NOT NULL REFERENCES failure_tickets (id),
    tag       TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX failure_ticket_tags_tag ON failure_ticket_tags (tag);
-- Earlier versions of a ticket's text, when the source message is edited.
CREATE TABLE failure_ticket_history (
    ticket_id   BIGINT NOT NULL REFERENCES failure_tickets (id),
    body        TEXT NOT NULL,
    replaced_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX failure_ticket_history_ticket ON failure_ticket_history (ticket_id);
