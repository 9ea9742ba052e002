-- perpdesk store, version 6: the Ed25519 key that signs settlement statements (issue 20).
-- One per profile, made at first run (or at the first unlock of an older vault). Its private
-- half is sealed by the vault like an API secret, under its own purpose; the public half is
-- kept in clear to show the user and to check the opened key against. The platform holds
-- the public half, so the key is never replaced or removed: only its sealed form changes,
-- when the master password changes.
CREATE TABLE statement_signing_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    public_key TEXT    NOT NULL CHECK (public_key LIKE 'ed25519:%'),
    sealed     TEXT    NOT NULL CHECK (sealed != ''),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER statement_signing_key_is_never_replaced BEFORE UPDATE ON statement_signing_key
WHEN NEW.id IS NOT OLD.id OR NEW.public_key IS NOT OLD.public_key
     OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'the statement signing key is never replaced');
END;

CREATE TRIGGER statement_signing_key_no_delete BEFORE DELETE ON statement_signing_key
BEGIN
    SELECT RAISE(ABORT, 'the statement signing key is never removed');
END;
