-- perpdesk store, version 3: settlements of the profit-share ledger, and the lookups sync
-- and booking make on every run.

-- A settlement closes a period of the ledger: every row up to `through_ledger_id` is paid
-- out; later rows are owed in the next one. Append-only like the ledger it closes, so a
-- paid period can never silently reopen.
CREATE TABLE profit_share_settlements (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES exchange_accounts (id),
    through_ledger_id INTEGER NOT NULL REFERENCES profit_share_ledger (id),
    entries           INTEGER NOT NULL CHECK (entries > 0),
    net_pnl           TEXT    NOT NULL,
    shareable         TEXT    NOT NULL,
    platform_share    TEXT    NOT NULL,
    user_share        TEXT    NOT NULL,
    settled_at        INTEGER NOT NULL,
    -- Two settlements can never cover the same rows.
    UNIQUE (account_id, through_ledger_id)
) STRICT;

CREATE TRIGGER profit_share_settlements_no_update BEFORE UPDATE ON profit_share_settlements
BEGIN
    SELECT RAISE(ABORT, 'profit_share_settlements is append-only');
END;

CREATE TRIGGER profit_share_settlements_no_delete BEFORE DELETE ON profit_share_settlements
BEGIN
    SELECT RAISE(ABORT, 'profit_share_settlements is append-only');
END;

-- Sync resumes per symbol from the newest trade id; the UNIQUE key already orders trade ids
-- within (account_id, symbol), so MAX(trade_id) is one index seek. Income resumes from the
-- newest time, which this index serves the same way.
CREATE INDEX income_account_time ON income (account_id, time);

-- Sync resolves client order ids of orders perpdesk placed from its own journal.
CREATE INDEX orders_journal_account_exchange_id ON orders_journal (account_id, exchange_order_id);

-- Booking links each ledger row to its income rows by tranId alone (one tranId may name a
-- fill's PnL and its commission); without this every link scanned the account's income.
CREATE INDEX income_account_tran ON income (account_id, tran_id);
