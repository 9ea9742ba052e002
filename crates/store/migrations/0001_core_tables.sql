-- perpdesk store, version 1: the core tables.
--
-- Conventions (enforced by CHECKs so a REAL can never slip into a money column):
--   * money and quantities are decimal TEXT exactly as rust_decimal prints them;
--   * times are INTEGER milliseconds since the Unix epoch, UTC;
--   * JSON columns hold valid JSON text.
-- Migrations are forward-only: never edit this file once released, add a new one.

CREATE TABLE exchange_accounts (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT    NOT NULL UNIQUE,
    environment            TEXT    NOT NULL CHECK (environment IN ('paper', 'testnet', 'live')),
    -- The public API key id; it identifies the key but cannot sign anything.
    api_key_id             TEXT    NOT NULL,
    -- Ciphertext produced by perpdesk-vault; the plaintext secret never reaches the database.
    secret_sealed          TEXT    NOT NULL,
    permissions_json       TEXT    CHECK (permissions_json IS NULL OR json_valid(permissions_json)),
    permissions_checked_at INTEGER,
    created_at             INTEGER NOT NULL
) STRICT;

CREATE TABLE orders_journal (
    id                INTEGER PRIMARY KEY,
    client_order_id   TEXT    NOT NULL UNIQUE,
    account_id        INTEGER NOT NULL REFERENCES exchange_accounts (id),
    symbol            TEXT    NOT NULL,
    side              TEXT    NOT NULL CHECK (side IN ('BUY', 'SELL')),
    kind              TEXT    NOT NULL,
    quantity          TEXT    CHECK (quantity IS NULL OR typeof(quantity) = 'text'),
    price             TEXT    CHECK (price IS NULL OR typeof(price) = 'text'),
    trigger_price     TEXT    CHECK (trigger_price IS NULL OR typeof(trigger_price) = 'text'),
    state             TEXT    NOT NULL,
    -- The full order request as JSON, written before anything is sent.
    intent            TEXT    NOT NULL CHECK (json_valid(intent)),
    exchange_order_id INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE order_events (
    id         INTEGER PRIMARY KEY,
    journal_id INTEGER NOT NULL REFERENCES orders_journal (id),
    state      TEXT    NOT NULL,
    detail     TEXT    CHECK (detail IS NULL OR json_valid(detail)),
    at         INTEGER NOT NULL
) STRICT;

CREATE TABLE fills (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES exchange_accounts (id),
    symbol           TEXT    NOT NULL,
    trade_id         INTEGER NOT NULL,
    order_id         INTEGER NOT NULL,
    client_order_id  TEXT,
    side             TEXT    NOT NULL CHECK (side IN ('BUY', 'SELL')),
    position_side    TEXT    NOT NULL CHECK (position_side IN ('BOTH', 'LONG', 'SHORT')),
    price            TEXT    NOT NULL,
    quantity         TEXT    NOT NULL,
    realized_pnl     TEXT    NOT NULL,
    commission       TEXT    NOT NULL,
    commission_asset TEXT    NOT NULL,
    maker            INTEGER NOT NULL CHECK (maker IN (0, 1)),
    time             INTEGER NOT NULL,
    -- Exact shadows of the TEXT amounts in units of 1e-8, for summing with integer SUM();
    -- NULL when the amount has more than 8 decimals or does not fit, and then the TEXT
    -- value is summed in Rust instead. The TEXT column stays the source of truth.
    realized_pnl_e8  INTEGER,
    commission_e8    INTEGER,
    -- Binance trade ids are unique per symbol, so this is the idempotent sync key.
    UNIQUE (account_id, symbol, trade_id)
) STRICT;

CREATE TABLE income (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES exchange_accounts (id),
    tran_id     INTEGER NOT NULL,
    income_type TEXT    NOT NULL,
    symbol      TEXT,
    amount      TEXT    NOT NULL,
    asset       TEXT    NOT NULL,
    trade_id    INTEGER,
    info        TEXT    NOT NULL,
    time        INTEGER NOT NULL,
    -- Exact shadow of `amount` in units of 1e-8, as for fills; NULL when not representable.
    amount_e8   INTEGER,
    -- Binance's tranId is unique per income type per user: the idempotent sync key.
    UNIQUE (account_id, income_type, tran_id)
) STRICT;

CREATE TABLE position_snapshots (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES exchange_accounts (id),
    symbol            TEXT    NOT NULL,
    position_side     TEXT    NOT NULL CHECK (position_side IN ('BOTH', 'LONG', 'SHORT')),
    quantity          TEXT    NOT NULL,
    entry_price       TEXT    NOT NULL,
    mark_price        TEXT    NOT NULL,
    leverage          INTEGER NOT NULL,
    margin_type       TEXT    NOT NULL CHECK (margin_type IN ('ISOLATED', 'CROSS')),
    isolated_margin   TEXT    NOT NULL,
    liquidation_price TEXT    NOT NULL,
    updated_at        INTEGER NOT NULL,
    taken_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE signals (
    id               INTEGER PRIMARY KEY,
    symbol           TEXT    NOT NULL,
    interval         TEXT    NOT NULL,
    candle_open_time INTEGER NOT NULL,
    model_version    TEXT    NOT NULL,
    direction        TEXT    NOT NULL CHECK (direction IN ('long', 'short', 'flat')),
    -- A model output, not money: REAL is fine here.
    probability      REAL    NOT NULL CHECK (probability >= 0.0 AND probability <= 1.0),
    features         TEXT    CHECK (features IS NULL OR json_valid(features)),
    created_at       INTEGER NOT NULL,
    UNIQUE (symbol, interval, candle_open_time, model_version)
) STRICT;

CREATE TABLE profit_share_ledger (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER NOT NULL REFERENCES exchange_accounts (id),
    symbol                TEXT    NOT NULL,
    trade_ref             TEXT    NOT NULL,
    total_pnl             TEXT    NOT NULL,
    shareable             TEXT    NOT NULL,
    platform_share        TEXT    NOT NULL,
    user_share            TEXT    NOT NULL,
    platform_ratio        TEXT    NOT NULL,
    mode                  TEXT    NOT NULL CHECK (mode IN ('high_water_mark', 'per_trade')),
    cumulative_net_after  TEXT    NOT NULL,
    high_water_mark_after TEXT    NOT NULL,
    time                  INTEGER NOT NULL,
    booked_at             INTEGER NOT NULL,
    -- Booking the same round trip twice must be impossible.
    UNIQUE (account_id, trade_ref)
) STRICT;

-- The exchange records each ledger row derives from, by row id so they cannot dangle.
CREATE TABLE profit_share_fills (
    ledger_id INTEGER NOT NULL REFERENCES profit_share_ledger (id),
    fill_id   INTEGER NOT NULL REFERENCES fills (id),
    PRIMARY KEY (ledger_id, fill_id)
) STRICT;

CREATE TABLE profit_share_income (
    ledger_id INTEGER NOT NULL REFERENCES profit_share_ledger (id),
    income_id INTEGER NOT NULL REFERENCES income (id),
    PRIMARY KEY (ledger_id, income_id)
) STRICT;

CREATE TRIGGER profit_share_ledger_no_update BEFORE UPDATE ON profit_share_ledger
BEGIN
    SELECT RAISE(ABORT, 'profit_share_ledger is append-only');
END;

CREATE TRIGGER profit_share_ledger_no_delete BEFORE DELETE ON profit_share_ledger
BEGIN
    SELECT RAISE(ABORT, 'profit_share_ledger is append-only');
END;

CREATE TRIGGER profit_share_fills_no_update BEFORE UPDATE ON profit_share_fills
BEGIN
    SELECT RAISE(ABORT, 'profit_share_fills is append-only');
END;

CREATE TRIGGER profit_share_fills_no_delete BEFORE DELETE ON profit_share_fills
BEGIN
    SELECT RAISE(ABORT, 'profit_share_fills is append-only');
END;

CREATE TRIGGER profit_share_income_no_update BEFORE UPDATE ON profit_share_income
BEGIN
    SELECT RAISE(ABORT, 'profit_share_income is append-only');
END;

CREATE TRIGGER profit_share_income_no_delete BEFORE DELETE ON profit_share_income
BEGIN
    SELECT RAISE(ABORT, 'profit_share_income is append-only');
END;

CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'order_events is append-only');
END;

CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'order_events is append-only');
END;

CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL CHECK (json_valid(value)),
    updated_at INTEGER NOT NULL
) STRICT;
