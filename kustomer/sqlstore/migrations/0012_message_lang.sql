-- The language a message is written in (a BCP 47 tag, the SDK's sendMessage
-- lang), as the client said it; '' when it did not say.
ALTER TABLE messages ADD COLUMN lang TEXT NOT NULL DEFAULT '';
