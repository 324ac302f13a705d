-- Time to respond: how urgent the conversation is (NORMAL, URGENT,
-- PRIORITIZED, or CUSTOM with ttr_value seconds), the seconds that allows
-- an agent from the customer's oldest unanswered message (ttr_seconds,
-- resolved from the form's target when set; conversations from before
-- this migration get 300, the default target, as their form's is not
-- known here), and a manual expected time to respond that overrides both
-- (manual_ettr, ms; NULL when none).
ALTER TABLE conversations ADD COLUMN ttr_type TEXT NOT NULL DEFAULT 'NORMAL';
ALTER TABLE conversations ADD COLUMN ttr_value BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN ttr_seconds BIGINT NOT NULL DEFAULT 300;
ALTER TABLE conversations ADD COLUMN manual_ettr BIGINT;
