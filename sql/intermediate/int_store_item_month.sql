-- int_store_item_month: int_store_item_period's months (a view: one row per chain x month
-- x store x item with sales lines in the month or must-carry in the month; the rules are
-- in int_store_item_period.sql and docs/models.md "Sell-out analytics").

select
    chain_code,
    period_start as month,
    store_code,
    barcode,
    store_class,
    sales_rows,
    units,
    sales_amount,
    carried,
    must_carry,
    price_rows,
    price_rows_compliant,
    on_hand_days,
    oos_days
from int_store_item_period
where period_kind = 'month'
