-- Foundation: inbox, incidents, timeline, outbox (see migrations/sqlite for
-- the same schema on SQLite; this one uses Postgres' native types).

-- Everything Slack sent that must not be lost, written before the 200.
-- dedupe_key makes Slack's retries and repeated deliveries harmless.
CREATE TABLE inbox (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT        NOT NULL CHECK (kind IN ('command', 'event', 'interaction')),
    dedupe_key    TEXT        NOT NULL UNIQUE,
    payload       TEXT        NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    available_at  TIMESTAMPTZ NOT NULL,
    attempts      INTEGER     NOT NULL DEFAULT 0,
    last_error    TEXT,
    processed_at  TIMESTAMPTZ
);
CREATE INDEX inbox_pending ON inbox (available_at, id) WHERE processed_at IS NULL;

CREATE TABLE incidents (
    id            BIGSERIAL PRIMARY KEY,
    title         TEXT        NOT NULL,
    severity      TEXT        CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    status        TEXT        NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    private       BOOLEAN     NOT NULL DEFAULT FALSE,
    declared_by   TEXT        NOT NULL,
    lead          TEXT,
    declared_at   TIMESTAMPTZ NOT NULL,
    channel_id    TEXT UNIQUE,
    channel_name  TEXT,
    card_ts       TEXT
);
CREATE INDEX incidents_status ON incidents (status);

-- Append-only history of an incident; the post-mortem is written from it.
CREATE TABLE timeline (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT      NOT NULL REFERENCES incidents (id),
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT        NOT NULL,
    kind        TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    source      TEXT        NOT NULL
);
CREATE INDEX timeline_incident ON timeline (incident_id, at);

-- Slack Web API calls recorded in the same transaction as the state change
-- that caused them; the outbox worker sends them in id order per ordering_key.
-- Only the oldest unsent call of a key is 'pending' (claimable); the ones
-- behind it are 'waiting' and promoted one by one, so claiming never has to
-- scan past a long queue for one busy channel.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    ordering_key    TEXT        NOT NULL,
    method          TEXT        NOT NULL,
    args            JSONB       NOT NULL,
    after_send      JSONB       NOT NULL,
    state           TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('waiting', 'pending', 'sent', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_until   TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT,
    response        JSONB
);
CREATE INDEX outbox_open_by_key ON outbox (ordering_key, id) WHERE state IN ('waiting', 'pending');
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
