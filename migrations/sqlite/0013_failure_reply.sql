-- The ticket's own message in the flagged message's thread, kept current
-- with chat.update as the ticket moves on.
ALTER TABLE failure_tickets ADD COLUMN reply_ts TEXT;
