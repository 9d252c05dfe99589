"""Deduction text mapping: every default term with a wording it must and must not match.

The table below has one row per term in ka_pipeline/config/deduction_types.yaml (a test
checks that none is missing): the first text must map to the term's type, the second
must not (it names the type it maps to instead, "unclassified" when none).
"""

from __future__ import annotations

import pytest

from ka_pipeline.config.deduction_text import (
    classify,
    compile_rules,
    default_rule_entries,
    default_rules,
)
from ka_pipeline.errors import ConfigError

RULES = default_rules()

# term: (must map to the term's type, must not: (text, the type it maps to instead))
TABLE: dict[str, tuple[str, tuple[str, str]]] = {
    # margin_guarantee
    "毛利补差": ("毛利补差 2026Q3", ("促销补差", "promo_subsidy")),
    "毛利保障": ("毛利保障金", ("毛利", "unclassified")),
    "毛利补贴": ("毛利补贴-10月", ("促销价格补贴", "promo_subsidy")),
    "毛利保证": ("毛利保证补款", ("保证金", "unclassified")),
    "毛利返还": ("毛利返还", ("返还款", "unclassified")),
    "margin guarantee": ("Margin-guarantee top up", ("Marginal cost", "unclassified")),
    "margin support": ("margin support Q3", ("Price support", "promo_subsidy")),
    "margin": ("Margin top-up", ("Margins report", "unclassified")),
    # min_sales_guarantee
    "最低销售额保证": ("最低销售额保证", ("销售额", "unclassified")),
    "最低销售额": ("未达最低销售额扣款", ("最低价", "unclassified")),
    "保底销售": ("保底销售补偿", ("保底", "unclassified")),
    "销售保底": ("年度销售保底", ("销售奖励", "unclassified")),
    "保底费": ("门店保底费", ("保底", "unclassified")),
    "minimum sales": ("Minimum sales shortfall", ("Minimums", "unclassified")),
    "min sales guarantee": ("Min sales guarantee", ("Admin sales", "unclassified")),
    # rebate
    "返利": ("年度返利", ("返还款", "unclassified")),
    "返点": ("季度返点", ("点位费", "unclassified")),
    "年度折让": ("年度折让", ("折扣", "unclassified")),
    "rebate": ("Volume rebate", ("Rebates2", "unclassified")),
    # promo_subsidy
    "促销价格补贴": ("促销价格补贴", ("价格调整", "unclassified")),
    "促销补差": ("促销补差", ("促销员", "unclassified")),
    "促销差价": ("中秋促销差价", ("差价", "unclassified")),
    "促销补贴": ("促销补贴款", ("补贴", "unclassified")),
    "价格补贴": ("价格补贴", ("价格", "unclassified")),
    "特价补差": ("特价补差", ("特价", "unclassified")),
    "补差": ("补差款", ("补款", "unclassified")),
    "price support": ("Price support", ("Price list", "unclassified")),
    "promo subsidy": ("Promo subsidy W12", ("Promotional", "unclassified")),
    "promotion subsidy": ("Promotion-subsidy", ("Promotion", "unclassified")),
    "promo support": ("promo support", ("promos", "unclassified")),
    "markdown support": ("Markdown support", ("Markdowns", "unclassified")),
    # complaint_claim
    "投诉索赔": ("顾客投诉索赔", ("投诉", "unclassified")),
    "投诉赔偿": ("投诉赔偿", ("赔偿金", "unclassified")),
    "客诉": ("客诉扣款", ("客户", "unclassified")),
    "质量索赔": ("质量索赔", ("质量", "unclassified")),
    "索赔": ("索赔款", ("索取", "unclassified")),
    "customer complaint": ("Customer complaint", ("Customer", "unclassified")),
    "complaint": ("complaint refund", ("complaints", "unclassified")),
    # slow_moving_disposal
    "滞销品处理": ("滞销品处理", ("处理费", "unclassified")),
    "滞销": ("滞销退货费", ("畅销", "unclassified")),
    "清场费": ("清场费", ("清洁费", "unclassified")),
    "slow moving": ("Slow-moving stock", ("Slowly", "unclassified")),
    "clearance": ("Clearance fee", ("Clearances", "unclassified")),
    # stockout_penalty
    "缺货罚款": ("缺货罚款", ("罚款", "unclassified")),
    "缺货": ("缺货扣款", ("缺少", "unclassified")),
    "断货": ("断货", ("断开", "unclassified")),
    "stockout": ("Stockout penalty", ("Stockouts", "unclassified")),
    "stock out": ("stock-out fine", ("stock", "unclassified")),
    "out of stock": ("Out of stock penalty", ("out of office", "unclassified")),
    "OOS": ("OOS fine", ("BOOST", "unclassified")),
    # barcode_fee
    "条码费": ("条码费-新品", ("条码", "unclassified")),
    "新品费": ("新品费", ("新品", "unclassified")),
    "新品进场费": ("新品进场费", ("进场费", "listing_fee")),
    "新品上架费": ("新品上架费", ("上架费", "listing_fee")),
    "barcode": ("Barcode fee", ("barcodes", "unclassified")),
    "new item": ("New item fee", ("New items", "unclassified")),
    "new SKU": ("new sku listing", ("new skus", "unclassified")),
    "SKU fee": ("SKU fee", ("SKU fees", "unclassified")),
    # listing_fee
    "进场费": ("进场费", ("进场", "unclassified")),
    "进店费": ("新门店进店费", ("进店", "unclassified")),
    "入场费": ("入场费", ("入场", "unclassified")),
    "上架费": ("上架费", ("上架", "unclassified")),
    "listing": ("Listing fee", ("Listings2", "unclassified")),
    "slotting": ("Slotting allowance", ("Slots", "unclassified")),
    # anniversary_fee
    "店庆": ("店庆费", ("店铺", "unclassified")),
    "周年庆": ("开业周年庆", ("开业费", "new_store_fee")),
    "司庆": ("司庆赞助", ("公司", "unclassified")),
    "anniversary": ("Store anniversary", ("Anniversaries", "unclassified")),
    # festival_fee
    "节庆": ("节庆费", ("节约", "unclassified")),
    "节日": ("节日赞助费", ("日常", "unclassified")),
    "年节": ("家乐福系统年节费", ("家乐福系统", "unclassified")),
    "节假日": ("节假日堆头", ("假日", "unclassified")),
    "春节": ("春节档期费", ("春季", "unclassified")),
    "中秋": ("中秋节费用", ("秋季", "unclassified")),
    "国庆": ("国庆档期", ("国际", "unclassified")),
    "festival": ("Festival sponsorship", ("Festivals", "unclassified")),
    "holiday": ("Holiday fee", ("Holidays", "unclassified")),
    # new_store_fee
    "新店": ("新店开业费", ("新品", "unclassified")),
    "开业费": ("开业费", ("开业", "unclassified")),
    "开业赞助": ("开业赞助", ("赞助", "unclassified")),
    "new store": ("New store opening", ("Newstores", "unclassified")),
    "store opening": ("Store opening fee", ("Store", "unclassified")),
    "grand opening": ("Grand opening", ("Grand", "unclassified")),
    # display_fee
    "堆头": ("堆头陈列费", ("堆放", "unclassified")),
    "端架": ("端架费", ("货架", "unclassified")),
    "陈列": ("陈列费", ("排列", "unclassified")),
    "地堆": ("地堆费", ("地址", "unclassified")),
    "割箱": ("割箱陈列", ("纸箱", "unclassified")),
    "display": ("End cap display fee", ("Displayed", "unclassified")),
    "end cap": ("Endcap", ("Endcaps", "unclassified")),
    "gondola": ("Gondola end", ("Gondolas", "unclassified")),
    "floor stack": ("Floor-stack fee", ("Floor", "unclassified")),
    # dm_fee
    "DM": ("DM海报费", ("Admin fee", "unclassified")),
    "海报": ("海报费", ("报表", "unclassified")),
    "快讯": ("快讯费", ("快递", "unclassified")),
    "传单": ("传单费", ("单据", "unclassified")),
    "flyer": ("Flyer fee", ("Flyers", "unclassified")),
    "leaflet": ("Leaflet", ("Leaflets", "unclassified")),
    # data_fee
    "信息系统": ("信息系统服务费", ("家乐福系统年节费", "festival_fee")),
    "信息服务": ("信息服务费", ("信息", "unclassified")),
    "数据服务": ("数据服务费", ("数据", "unclassified")),
    "数据费": ("POS数据费", ("数据", "unclassified")),
    "信息费": ("信息费", ("信用", "unclassified")),
    "系统使用费": ("系统使用费", ("系统", "unclassified")),
    "系统服务费": ("系统服务费", ("系统维护", "unclassified")),
    "data fee": ("Retail Link data fee", ("Metadata", "unclassified")),
    "data service": ("Data service", ("Database", "unclassified")),
    "system fee": ("System fee", ("Systems", "unclassified")),
    "EDI": ("EDI charge", ("EDITION", "unclassified")),
    "retail link": ("RetailLink", ("Retailer", "unclassified")),
    # logistics_fee
    "配送费": ("配送费", ("配送", "unclassified")),
    "物流费": ("物流费", ("物流", "unclassified")),
    "仓储费": ("仓储费", ("仓库", "unclassified")),
    "运费": ("运费", ("运营", "unclassified")),
    "logistics": ("Logistics fee", ("Logistical", "unclassified")),
    "distribution fee": ("Distribution fee", ("Distribution", "unclassified")),
    "DC fee": ("DC fee", ("DCfees", "unclassified")),
    "freight": ("Freight", ("Freighter", "unclassified")),
    # shrinkage_fee
    "损耗": ("损耗费", ("损坏", "unclassified")),
    "shrinkage": ("Shrinkage", ("Shrinkages", "unclassified")),
    "shrink": ("Shrink allowance", ("Shrinking", "unclassified")),
}

TERM_TYPE = {
    str(term): entry["type"] for entry in default_rule_entries() for term in entry["terms"]
}


def test_the_table_covers_every_default_term():
    assert set(TABLE) == set(TERM_TYPE)


@pytest.mark.parametrize("term", sorted(TERM_TYPE))
def test_term_must_and_must_not_match(term):
    must, (must_not, instead) = TABLE[term]
    assert classify(RULES, must) == TERM_TYPE[term], must
    assert classify(RULES, must_not) == instead, must_not


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # the wordings domain.md section 6 names
        ("促销价格补贴", "promo_subsidy"),
        ("毛利补贴", "margin_guarantee"),
        ("投诉索赔", "complaint_claim"),
        ("最低销售额保证", "min_sales_guarantee"),
        ("滞销品处理", "slow_moving_disposal"),
        ("Admin fee", "unclassified"),
        ("家乐福系统年节费", "festival_fee"),
        ("杂项扣款", "unclassified"),
    ],
)
def test_domain_wordings(text, kind):
    assert classify(RULES, text) == kind


def test_chain_rules_and_bad_entries():
    rules = compile_rules(
        [{"type": "dm_fee", "pattern": "co-?op advertising"}, {"type": "rebate", "terms": ["VIR"]}],
        "chains.yaml chain 1 (WMT) deduction_types",
    )
    assert classify(rules, "Co-op advertising") == "dm_fee"
    assert classify(rules, "VIR Q3") == "rebate" and classify(rules, "VIRTUAL") == "unclassified"
    for bad, message in [
        ([{"type": "fee", "terms": ["x"]}], "rule 1: unknown type 'fee'"),
        ([{"type": "dm_fee"}], "rule 1: give either 'terms' (a list) or 'pattern'"),
        ([{"type": "dm_fee", "terms": "DM"}], "rule 1: 'terms' must be a non-empty list"),
        ([{"type": "dm_fee", "pattern": "("}], "rule 1: bad pattern"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            compile_rules(bad, "chains.yaml chain 1 (WMT) deduction_types")
