-- A series' resolution: how often it has a value. Every commodity stored before resolutions
-- was daily.
ALTER TABLE commodities
    ADD COLUMN resolution TEXT NOT NULL DEFAULT 'daily'
    CHECK (resolution IN ('hourly', 'daily', 'weekly', 'monthly'));
