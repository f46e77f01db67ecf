ALTER TABLE commodities DROP COLUMN resolution;
