-- A customer's social accounts, as the SDK's describeCustomer gives them:
-- a JSON array of {"username", "type"}.
ALTER TABLE customers ADD COLUMN socials TEXT NOT NULL DEFAULT '[]';
