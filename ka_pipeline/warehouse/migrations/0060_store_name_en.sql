-- Stores may carry an English name (stores.csv column name_en, optional): English
-- scorecards show it, and the local name where it is not given (docs/scorecard.md).
alter table ref_store add column name_en varchar;
