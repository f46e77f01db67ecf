ALTER TABLE runs DROP COLUMN attempt;
ALTER TABLE schedule_fires DROP COLUMN notified_at;
ALTER TABLE schedule_fires DROP COLUMN notified_attempt;
