-- Triage (owner, tags, severity score, customer impact) and root-cause
-- analysis (five whys, root cause, lesson) of failure tickets.
ALTER TABLE failure_tickets ADD COLUMN severity_score INTEGER CHECK (severity_score BETWEEN 1 AND 5);
ALTER TABLE failure_tickets ADD COLUMN customer_impact TEXT;
-- One "why?" answer per line, first to last.
ALTER TABLE failure_tickets ADD COLUMN five_whys TEXT;
ALTER TABLE failure_tickets ADD COLUMN root_cause TEXT;
-- A ticket that repeats earlier ones, and why (shared tag or similar text).
CREATE TABLE failure_recurrences (
    ticket_id  BIGINT NOT NULL REFERENCES failure_tickets (id),
    earlier_id BIGINT NOT NULL REFERENCES failure_tickets (id),
    reason     TEXT NOT NULL,
    found_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticket_id, earlier_id)
);
CREATE INDEX failure_tickets_captured_at ON failure_tickets (captured_at);
