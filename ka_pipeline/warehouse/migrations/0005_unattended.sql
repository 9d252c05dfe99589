-- Unattended operation (issue 5): the state of every chain x business date, and an
-- outbox that versions each scorecard and claims a mail before sending it.

-- One row per chain x business date, written under the chain's lock at the end of each
-- run of that day: ok (every daily feed loaded, nothing rejected, models built),
-- incomplete (a daily feed is missing) or failed (a file rejected, or the run failed).
-- Scorecards go out only for periods whose days are all ok (docs/operations.md).
create table ops_chain_day (
    chain_code     varchar not null,
    business_date  date not null,
    status         varchar not null,     -- ok | incomplete | failed
    reason         varchar,
    updated_at     timestamp not null,
    primary key (chain_code, business_date)
);

-- The outbox keeps every version of a period's scorecard: version 1 keeps the key
-- owner|kind|start, a revision adds |rN. A mail is sent by whoever claims its row
-- (status written/failed -> sending) first; content_hash and figures are the period's
-- figures, so a changed period is detected and the revision can say what changed.
alter table ops_outbox add column owner_code varchar;
alter table ops_outbox add column version integer default 1;
alter table ops_outbox add column content_hash varchar;
alter table ops_outbox add column figures varchar;
alter table ops_outbox add column changes varchar;
alter table ops_outbox add column gaps varchar;
alter table ops_outbox add column claim_token varchar;
alter table ops_outbox add column claimed_at timestamp;
