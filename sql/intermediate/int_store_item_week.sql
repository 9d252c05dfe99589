-- int_store_item_week: int_store_item_period's ISO weeks (a view: one row per chain x week
-- x store x item with sales lines in the week or must-carry in the week; week_start = the
-- Monday; the rules are in int_store_item_period.sql and docs/models.md "Sell-out
-- analytics").

select
    chain_code,
    period_start as week_start,
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
where period_kind = 'week'
