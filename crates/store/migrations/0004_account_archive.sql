-- Accounts are archived, never deleted: their fills, income and ledger rows reference them
-- and the ledger is append-only.
ALTER TABLE exchange_accounts ADD COLUMN archived_at INTEGER;
