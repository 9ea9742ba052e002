-- perpdesk store, version 2: query indexes, the audit log, and the original system's names.

-- Indexes for pnl_summary. The fills one is covering: the range scan on (account_id, time)
-- reads the scaled integer amounts straight from the index, never touching table rows.
-- Funding payments are few (one per symbol every 1-8 h), so their scan may visit rows.
CREATE INDEX fills_account_time
    ON fills (account_id, time, commission_asset, realized_pnl_e8, commission_e8);

CREATE INDEX income_account_type_time
    ON income (account_id, income_type, time, asset, amount_e8);

CREATE INDEX order_events_journal ON order_events (journal_id, id);
CREATE INDEX orders_journal_account_state ON orders_journal (account_id, state);
CREATE INDEX position_snapshots_account_taken ON position_snapshots (account_id, taken_at);
CREATE INDEX profit_share_ledger_account_time ON profit_share_ledger (account_id, time);
CREATE INDEX signals_symbol_interval_time ON signals (symbol, interval, candle_open_time);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    details TEXT    NOT NULL CHECK (json_valid(details))
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Read-only views under the original system's table names, for exports and anyone
-- porting its reports. The secret column stays sealed.
CREATE VIEW user_api_configs AS
SELECT id, name, environment, api_key_id AS api_key, secret_sealed AS api_secret_sealed,
       permissions_json, created_at
FROM exchange_accounts;

CREATE VIEW trade_records AS
SELECT id, account_id, symbol, trade_id, order_id, client_order_id, side, position_side,
       price, quantity, realized_pnl, commission, commission_asset, time
FROM fills;

CREATE VIEW profit_shares AS
SELECT id, account_id, symbol, trade_ref, total_pnl, platform_share, user_share,
       platform_ratio, time
FROM profit_share_ledger;
