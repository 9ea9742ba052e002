-- perpdesk store, version 5: the profit share decided at settlement (issue 20), and the
-- signed statements of settlements. Nothing already booked or settled is rewritten: each
-- new column's default describes the rows that existed before it truthfully.

-- When a row's share is decided. Every row booked before this version had it decided as it
-- was booked, by `mode`: hence the default. A row booked under the settlement mode leaves it
-- to the next settlement; its `mode` is 'high_water_mark', the rule that settlement applies
-- (the `mode` CHECK predates the settlement mode, and changing it would rewrite the table).
ALTER TABLE profit_share_ledger ADD COLUMN share_decided TEXT NOT NULL DEFAULT 'at_booking'
    CHECK (share_decided IN ('at_booking', 'at_settlement')
           AND (share_decided = 'at_booking' OR mode = 'high_water_mark'));

-- What a settlement decided itself, above the mark (`perpdesk_core::Decision`). Settlements
-- made before this version have no row here: they paid the sum of their rows' shares and
-- decided nothing (their statements say rule `sum_of_rows`). The settlement's own totals
-- (profit_share_settlements) include this decision.
CREATE TABLE profit_share_decisions (
    settlement_id  INTEGER PRIMARY KEY REFERENCES profit_share_settlements (id),
    platform_ratio TEXT    NOT NULL,
    mode           TEXT    NOT NULL CHECK (mode IN ('settlement', 'high_water_mark', 'per_trade')),
    cumulative_net TEXT    NOT NULL,
    mark_before    TEXT    NOT NULL,
    shareable      TEXT    NOT NULL,
    platform_share TEXT    NOT NULL,
    user_share     TEXT    NOT NULL,
    mark_after     TEXT    NOT NULL
) STRICT;

CREATE TRIGGER profit_share_decisions_no_update BEFORE UPDATE ON profit_share_decisions
BEGIN
    SELECT RAISE(ABORT, 'profit_share_decisions is append-only');
END;

CREATE TRIGGER profit_share_decisions_no_delete BEFORE DELETE ON profit_share_decisions
BEGIN
    SELECT RAISE(ABORT, 'profit_share_decisions is append-only');
END;

-- The signed statement of a settlement, as given to the platform (`SignedStatement` JSON).
-- One per settlement, written once.
CREATE TABLE profit_share_statements (
    settlement_id   INTEGER PRIMARY KEY REFERENCES profit_share_settlements (id),
    signed          TEXT    NOT NULL CHECK (json_valid(signed)),
    key_fingerprint TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE TRIGGER profit_share_statements_no_update BEFORE UPDATE ON profit_share_statements
BEGIN
    SELECT RAISE(ABORT, 'profit_share_statements is append-only');
END;

CREATE TRIGGER profit_share_statements_no_delete BEFORE DELETE ON profit_share_statements
BEGIN
    SELECT RAISE(ABORT, 'profit_share_statements is append-only');
END;
