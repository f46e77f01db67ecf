DROP TABLE fire_attempts;
ALTER TABLE schedule_fires DROP COLUMN attempt;
