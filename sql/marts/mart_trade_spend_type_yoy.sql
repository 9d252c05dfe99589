-- mart_trade_spend_type_yoy: the trade-spend rate per deduction type and contract year
-- against the year before, for the negotiation of the next contract (issue 8 point 4;
-- domain.md sections 4 and 7; docs/models.md "Sell-out analytics").
-- amount: mart_trade_spend_type_year (the lines attributed to the contract year, trade
-- spend types only: rebate excluded); sell_in_net: mart_contract_year_pnl; the LY columns
-- are the previous contract year's (null when the chain had no such contract year or no
-- line of that type then); rate_change = rate - rate LY (0.010000 = one point).
-- Rebuilt whole (a few rows per contract year). Portable SQL (DuckDB and PostgreSQL).

with

-- import CTEs ---------------------------------------------------------------

type_year as (
    select contract_year, deduction_type, amount
    from mart_trade_spend_type_year
    where chain_code = :chain_code
        and is_trade_spend
),

years as (
    select contract_year, sell_in_net
    from mart_contract_year_pnl
    where chain_code = :chain_code
),

-- logic CTEs ----------------------------------------------------------------

rated as (
    select
        t.contract_year,
        t.deduction_type,
        t.amount,
        y.sell_in_net,
        case when y.sell_in_net <> 0 then t.amount / y.sell_in_net end as rate
    from type_year as t
    inner join years as y
        on y.contract_year = t.contract_year
),

final as (
    select
        cast(:chain_code as varchar) as chain_code,
        cur.contract_year,
        cur.deduction_type,
        cast(cur.amount as decimal(16, 2)) as amount,
        cast(cur.sell_in_net as decimal(16, 2)) as sell_in_net,
        cast(cur.rate as decimal(12, 6)) as trade_spend_rate,
        cast(ly.amount as decimal(16, 2)) as amount_ly,
        cast(ly.sell_in_net as decimal(16, 2)) as sell_in_net_ly,
        cast(ly.rate as decimal(12, 6)) as trade_spend_rate_ly,
        cast(cur.rate - ly.rate as decimal(12, 6)) as rate_change
    from rated as cur
    left join rated as ly
        on ly.contract_year = cur.contract_year - 1
        and ly.deduction_type = cur.deduction_type
)

select * from final
