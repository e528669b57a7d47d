-- Each ticket's comparable words (sorted, distinct, space-separated), stored
-- when its text arrives, so recurrence matching never tokenises earlier
-- tickets. NULL for tickets captured before this column: matching reads the
-- start of their text instead.
ALTER TABLE failure_tickets ADD COLUMN words TEXT;
