-- The language the customer's pages speak in a conversation (a BCP 47 tag,
-- as the SDK's lang), chosen when it was created; '' for conversations from
-- before languages, which follow the visitor's browser.
ALTER TABLE conversations ADD COLUMN lang TEXT NOT NULL DEFAULT '';
