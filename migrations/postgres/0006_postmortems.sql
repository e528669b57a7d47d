-- Post-mortem follow-up: when it was marked done, and where it lives.
ALTER TABLE incidents
    ADD COLUMN postmortem_done_at TIMESTAMPTZ,
    ADD COLUMN postmortem_link    TEXT;
