-- What the store found about the server at start-up (the TimescaleDB step), so that a finding is
-- reported when it changes, not at every command.
CREATE TABLE store_state (
    key      TEXT PRIMARY KEY,
    value    TEXT NOT NULL,
    noted_at TIMESTAMPTZ NOT NULL
);
