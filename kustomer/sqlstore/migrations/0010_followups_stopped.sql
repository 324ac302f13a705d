-- A customer who used the unsubscribe link in a follow-up email gets no
-- more follow-ups (a transcript they ask for is still sent).
ALTER TABLE customers ADD COLUMN followups_stopped_at BIGINT;
