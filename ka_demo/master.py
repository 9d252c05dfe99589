"""Master data of the demo: chains, owners, stores, products, listings, promotions,
the chains' feed layouts and deduction wordings, and the config files that declare them.

Guarantees: ``unit_cost < supply_price < floor_price < std_retail_price`` for every
product; promo prices are below retail and never below floor; every store has a Chinese
``name`` and an English ``name_en``; the items the plants use (``plants.RESERVED``) are
listed by every chain and never in a random promotion, so a plant is the only thing
that touches them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ka_pipeline.config import MASTER_COLUMNS, store_class
from ka_pipeline.gtin import make_gtin13

from .util import Span, money, month_end, month_start, next_month
from .writer import dump_yaml, write_csv

# --------------------------------------------------------------------------- master data

CHAINS: list[dict[str, Any]] = [
    {
        "code": "CRF",
        "name": "Carrefour",
        "name_local": "家乐福",
        "format": "hypermarket",
        "region": "华东",
        "settlement_mode": "outright_purchase",
        "payment_terms_days": 60,
        "dispute_window_days": 90,
        "owner": "zhang.wei",
    },
    {
        "code": "RTM",
        "name": "RT-Mart",
        "name_local": "大润发",
        "format": "hypermarket",
        "region": "华东",
        "settlement_mode": "outright_purchase",
        "payment_terms_days": 45,
        "dispute_window_days": 60,
        "owner": "zhang.wei",
    },
    {
        "code": "WMT",
        "name": "Walmart",
        "name_local": "沃尔玛",
        "format": "hypermarket",
        "region": "华南",
        "settlement_mode": "outright_purchase",
        "payment_terms_days": 30,
        "dispute_window_days": 120,
        "owner": "emily.chen",
    },
]

OWNERS = [
    {
        "code": "zhang.wei",
        "name": "张伟",
        "email": "zhang.wei@example.com",
        "locale": "zh-CN",
        "manager_email": "li.na@example.com",
    },
    {
        "code": "emily.chen",
        "name": "Emily Chen",
        "email": "emily.chen@example.com",
        "locale": "en",
        "manager_email": "li.na@example.com",
    },
]

# Per chain: growth per year, sales multiplier, store classes of the 15 existing stores,
# (city, region, district) list, delivery model.
CHAIN_MODEL: dict[str, dict[str, Any]] = {
    "CRF": {
        "growth": 0.09,
        "mult": 1.0,
        "classes": "AAAAAAAABBBBBCC",
        "new_store": ("B", 0.75),  # class, position in the range
        "closed_store": None,
        "sites": [
            ("上海", "华东", "古北"),
            ("上海", "华东", "万里"),
            ("上海", "华东", "曲阳"),
            ("上海", "华东", "联洋"),
            ("北京", "华北", "中关村"),
            ("北京", "华北", "双井"),
            ("北京", "华北", "方圆"),
            ("杭州", "华东", "庆春"),
            ("南京", "华东", "新街口"),
            ("苏州", "华东", "金鸡湖"),
            ("宁波", "华东", "海曙"),
            ("武汉", "华中", "汉阳"),
            ("成都", "西南", "八宝街"),
            ("广州", "华南", "天河"),
            ("深圳", "华南", "福田"),
            ("天津", "华北", "河西"),
        ],
    },
    "RTM": {
        "growth": 0.06,
        "mult": 1.1,
        "classes": "AAAAAAABBBBBBCC",
        "new_store": ("A", 0.35),
        "closed_store": None,
        "sites": [
            ("上海", "华东", "杨浦"),
            ("上海", "华东", "闵行"),
            ("苏州", "华东", "园区"),
            ("无锡", "华东", "滨湖"),
            ("南通", "华东", "崇川"),
            ("常州", "华东", "武进"),
            ("杭州", "华东", "萧山"),
            ("宁波", "华东", "鄞州"),
            ("合肥", "华东", "包河"),
            ("南京", "华东", "江宁"),
            ("扬州", "华东", "邗江"),
            ("徐州", "华东", "鼓楼"),
            ("温州", "华东", "鹿城"),
            ("东莞", "华南", "南城"),
            ("长沙", "华中", "岳麓"),
            ("嘉兴", "华东", "南湖"),
        ],
    },
    "WMT": {
        "growth": 0.12,
        "mult": 0.9,
        "classes": "AAAAABBBBBBCCCC",
        "new_store": None,
        "closed_store": 0.65,
        "sites": [
            ("深圳", "华南", "蛇口"),
            ("深圳", "华南", "香蜜湖"),
            ("深圳", "华南", "布吉"),
            ("广州", "华南", "番禺"),
            ("广州", "华南", "白云"),
            ("东莞", "华南", "东城"),
            ("佛山", "华南", "禅城"),
            ("珠海", "华南", "拱北"),
            ("厦门", "华东", "思明"),
            ("福州", "华东", "台江"),
            ("南宁", "华南", "青秀"),
            ("昆明", "西南", "五华"),
            ("重庆", "西南", "渝北"),
            ("成都", "西南", "高新"),
            ("长沙", "华中", "芙蓉"),
        ],
    },
}

# (name, brand, category, std retail price in cents, base daily units in an A store,
#  case pack, new?)  Base units are per store x item x day where the item sells.
PRODUCTS: list[tuple[str, str, str, int, float, int, bool]] = [
    ("清泉天然矿泉水 550ml", "清泉", "beverages", 200, 9.0, 24, False),
    ("清泉天然矿泉水 1.5L", "清泉", "beverages", 450, 5.0, 12, False),
    ("清泉天然矿泉水 550ml×12 整箱", "清泉", "beverages", 2280, 1.5, 4, False),
    ("清泉柠檬红茶 500ml", "清泉", "beverages", 350, 6.0, 24, False),
    ("清泉无糖乌龙茶 500ml", "清泉", "beverages", 450, 4.5, 24, False),
    ("清泉橙汁 1L", "清泉", "beverages", 1290, 2.5, 12, False),
    ("清泉苹果汁 1L", "清泉", "beverages", 1290, 2.0, 12, False),
    ("清泉苏打水 410ml", "清泉", "beverages", 400, 4.0, 24, False),
    ("清泉运动饮料 600ml", "清泉", "beverages", 550, 3.5, 24, False),
    ("清泉椰子水 330ml", "清泉", "beverages", 790, 2.0, 24, False),
    ("脆乐原味薯片 75g", "脆乐", "snacks", 750, 5.0, 24, False),
    ("脆乐番茄味薯片 75g", "脆乐", "snacks", 750, 4.0, 24, False),
    ("脆乐烧烤味薯片 150g", "脆乐", "snacks", 1290, 2.5, 12, False),
    ("脆乐海苔夹心脆 40g", "脆乐", "snacks", 990, 2.5, 24, False),
    ("脆乐每日坚果 25g×7", "脆乐", "snacks", 3990, 1.2, 12, False),
    ("脆乐五香牛肉干 100g", "脆乐", "snacks", 2990, 1.0, 12, False),
    ("脆乐巧克力威化 150g", "脆乐", "snacks", 1190, 2.5, 12, False),
    ("脆乐苏打饼干 400g", "脆乐", "snacks", 1350, 2.0, 12, False),
    ("脆乐鸡蛋卷 260g", "脆乐", "snacks", 1990, 1.5, 12, False),
    ("脆乐果冻 6杯装", "脆乐", "snacks", 990, 2.0, 12, False),
    ("柔肤洗发水 750ml", "柔肤", "personal_care", 4990, 0.8, 6, False),
    ("柔肤护发素 750ml", "柔肤", "personal_care", 4990, 0.6, 6, False),
    ("柔肤沐浴露 1L", "柔肤", "personal_care", 3990, 1.0, 6, False),
    ("柔肤清新牙膏 120g", "柔肤", "personal_care", 1290, 2.0, 24, False),
    ("柔肤软毛牙刷 2支装", "柔肤", "personal_care", 1590, 1.2, 12, False),
    ("柔肤洗手液 500ml", "柔肤", "personal_care", 1990, 1.2, 12, False),
    ("柔肤护手霜 50g", "柔肤", "personal_care", 1690, 0.8, 24, False),
    ("柔肤洁面乳 100g", "柔肤", "personal_care", 2990, 0.8, 12, False),
    ("柔肤湿巾 80抽", "柔肤", "personal_care", 990, 2.0, 24, False),
    ("柔肤面巾纸 3包装", "柔肤", "personal_care", 1290, 2.5, 16, False),
    ("Maple Ridge 枫糖燕麦饼干 300g", "Maple Ridge", "snacks", 2590, 1.0, 12, False),
    ("Maple Ridge 蜂蜜燕麦片 500g", "Maple Ridge", "snacks", 3590, 0.8, 12, False),
    ("清泉白桃气泡水 480ml", "清泉", "beverages", 590, 4.0, 24, True),
    ("脆乐藤椒味薯片 75g", "脆乐", "snacks", 790, 3.0, 24, True),
]

CLASS_MU = {"A": 2.5, "B": 1.4, "C": 0.75}  # units scale by store class
CLASS_P = {"A": 1.0, "B": 0.85, "C": 0.68}  # chance an item sells on a day

# --------------------------------------------------------------------------- layouts

_CRF_FEEDS = {
    "sales": {"file": "sales/CRF_sales_{date:%Y%m%d}.csv"},
    "invoices": {"file": "invoices/CRF_invoices_{date:%Y%m%d}.csv"},
    "deductions": {"file": "deductions/CRF_statement_{date:%Y%m%d}.csv"},
    "payments": {"file": "payments/CRF_remittance_{date:%Y%m%d}.csv"},
}
_RTM_CSV = {"encoding": "gbk", "date_format": "%Y/%m/%d", "thousands": ","}
_RTM_FEEDS = {
    "sales": {
        "file": "sales/RTM_sales_{date:%Y%m%d}.csv",
        **_RTM_CSV,
        "columns": {
            "business_date": "销售日期",
            "store_code": "门店编码",
            "barcode": "商品条码",
            "units": "销售数量",
            "sales_amount": "销售金额",
        },
    },
    "invoices": {"file": "invoices/RTM_invoices_{date:%Y%m%d}.csv"},
    "deductions": {
        "file": "deductions/大润发对账单_{date:%Y%m%d}.csv",
        **_RTM_CSV,
        "columns": {
            "statement_no": "对账单号",
            "deduction_no": "扣款单号",
            "deduction_date": "扣款日期",
            "deduction_text": "扣款项目",
            "amount": "扣款金额",
            "store_code": "门店编码",
            "barcode": "商品条码",
            "units": "数量",
            "reference": "关联单号",
            "period_start": "费用起始日",
            "period_end": "费用截止日",
        },
    },
    "payments": {
        "file": "payments/RTM_payment_{date:%Y%m%d}.csv",
        **_RTM_CSV,
        "columns": {
            "payment_no": "付款单号",
            "payment_date": "付款日期",
            "invoice_no": "发票号",
            "amount": "付款金额",
        },
    },
}
_WMT_XLSX = {"format": "xlsx", "date_format": "%m/%d/%Y"}
_WMT_FEEDS = {
    "sales": {
        "file": "sales/WMT_POS_{date:%Y%m%d}.xlsx",
        **_WMT_XLSX,
        "columns": {
            "business_date": "Date",
            "store_code": "Store Nbr",
            "barcode": "UPC",
            "units": "Sales Qty",
            "sales_amount": "Sales Amt",
        },
    },
    "invoices": {"file": "invoices/WMT_invoices_{date:%Y%m%d}.csv"},
    "deductions": {
        "file": "deductions/WMT_Deductions_{date:%Y%m%d}.xlsx",
        **_WMT_XLSX,
        "columns": {
            "statement_no": "Statement Nbr",
            "deduction_no": "Deduction Nbr",
            "deduction_date": "Deduction Date",
            "deduction_text": "Description",
            "amount": "Amount",
            "store_code": "Store Nbr",
            "barcode": "UPC",
            "units": "Qty",
            "reference": "Reference",
            "period_start": "Period Start",
            "period_end": "Period End",
        },
    },
    "payments": {
        "file": "payments/WMT_Remittance_{date:%Y%m%d}.xlsx",
        **_WMT_XLSX,
        "columns": {
            "payment_no": "Payment Nbr",
            "payment_date": "Payment Date",
            "invoice_no": "Invoice Nbr",
            "amount": "Amount Paid",
        },
    },
}
FEED_LAYOUTS = {"CRF": _CRF_FEEDS, "RTM": _RTM_FEEDS, "WMT": _WMT_FEEDS}
CHAIN_RULES = {"WMT": [{"pattern": "co-?op advertising", "type": "dm_fee"}]}

# The chain's own wording per deduction type (the pipeline maps it back by regex).
TEXTS = {
    "CRF": {
        "dm_fee": "DM海报费",
        "display_fee": "堆头陈列费",
        "barcode_fee": "条码费-新品",
        "data_fee": "信息系统服务费",
        "new_store_fee": "新店开业费",
        "promo_subsidy": "促销补差",
        "rebate": "年度返利",
    },
    "RTM": {
        "dm_fee": "DM海报费",
        "display_fee": "堆头费",
        "barcode_fee": "条码费-新品",
        "data_fee": "数据服务费",
        "festival_fee": "节庆费",
        "new_store_fee": "新店开业费",
        "promo_subsidy": "促销补差",
        "rebate": "季度返利",
        "anniversary_fee": "店庆费",
    },
    "WMT": {
        "dm_fee": "Co-op advertising",
        "display_fee": "End cap display fee",
        "barcode_fee": "New item fee",
        "data_fee": "Retail Link data fee",
        "festival_fee": "Festival sponsorship",
        "promo_subsidy": "Price support",
        "rebate": "Volume rebate",
    },
}
UNCLASSIFIED_TEXT = "杂项扣款"  # maps to no rule on purpose

# Contract fee schedule per chain: type -> (basis, amount in cents). Promo subsidies are
# governed by promotions.csv and rebates by the rebate terms, not by this schedule.
FEES = {
    "CRF": {
        "dm_fee": ("per_month", 800000),
        "display_fee": ("per_store_month", 150000),
        "barcode_fee": ("per_item", 300000),
        "data_fee": ("per_year", 2400000),
        "new_store_fee": ("per_store", 2000000),
    },
    "RTM": {
        "dm_fee": ("per_month", 600000),
        "display_fee": ("per_store_month", 200000),
        "barcode_fee": ("per_item", 250000),
        "data_fee": ("per_year", 1200000),
        "festival_fee": ("per_event", 1000000),
        "new_store_fee": ("per_store", 1500000),
    },
    "WMT": {
        "dm_fee": ("per_month", 1000000),
        "display_fee": ("per_store_month", 180000),
        "barcode_fee": ("per_item", 500000),
        "data_fee": ("per_year", 3000000),
        "festival_fee": ("per_event", 800000),
    },
}
REBATE = {
    "CRF": ("retroactive", True, ("0.0200", "0.0300", "0.0400")),
    "RTM": ("retroactive", True, ("0.0150", "0.0250", "0.0350")),
    "WMT": ("stepped", False, ("0.0100", "0.0200", "0.0300")),
}


# --------------------------------------------------------------------------- summary


# The optional feed columns each chain sends in its sales files.
SALES_OPTIONAL = {"CRF": ("promo_units", "promo_amount", "on_hand_units"), "RTM": (), "WMT": ()}

CITY_EN = {
    "上海": "Shanghai",
    "北京": "Beijing",
    "杭州": "Hangzhou",
    "南京": "Nanjing",
    "苏州": "Suzhou",
    "宁波": "Ningbo",
    "武汉": "Wuhan",
    "成都": "Chengdu",
    "广州": "Guangzhou",
    "深圳": "Shenzhen",
    "天津": "Tianjin",
    "无锡": "Wuxi",
    "南通": "Nantong",
    "常州": "Changzhou",
    "合肥": "Hefei",
    "扬州": "Yangzhou",
    "徐州": "Xuzhou",
    "温州": "Wenzhou",
    "东莞": "Dongguan",
    "长沙": "Changsha",
    "嘉兴": "Jiaxing",
    "佛山": "Foshan",
    "珠海": "Zhuhai",
    "厦门": "Xiamen",
    "福州": "Fuzhou",
    "南宁": "Nanning",
    "昆明": "Kunming",
    "重庆": "Chongqing",
}
DISTRICT_EN = {
    "古北": "Gubei",
    "万里": "Wanli",
    "曲阳": "Quyang",
    "联洋": "Lianyang",
    "中关村": "Zhongguancun",
    "双井": "Shuangjing",
    "方圆": "Fangyuan",
    "庆春": "Qingchun",
    "新街口": "Xinjiekou",
    "金鸡湖": "Jinji Lake",
    "海曙": "Haishu",
    "汉阳": "Hanyang",
    "八宝街": "Babao Street",
    "天河": "Tianhe",
    "福田": "Futian",
    "河西": "Hexi",
    "杨浦": "Yangpu",
    "闵行": "Minhang",
    "园区": "Industrial Park",
    "滨湖": "Binhu",
    "崇川": "Chongchuan",
    "武进": "Wujin",
    "萧山": "Xiaoshan",
    "鄞州": "Yinzhou",
    "包河": "Baohe",
    "江宁": "Jiangning",
    "邗江": "Hanjiang",
    "鼓楼": "Gulou",
    "鹿城": "Lucheng",
    "南城": "Nancheng",
    "岳麓": "Yuelu",
    "南湖": "Nanhu",
    "蛇口": "Shekou",
    "香蜜湖": "Xiangmihu",
    "布吉": "Buji",
    "番禺": "Panyu",
    "白云": "Baiyun",
    "东城": "Dongcheng",
    "禅城": "Chancheng",
    "拱北": "Gongbei",
    "思明": "Siming",
    "台江": "Taijiang",
    "青秀": "Qingxiu",
    "五华": "Wuhua",
    "渝北": "Yubei",
    "高新": "Hi-tech Zone",
    "芙蓉": "Furong",
}


@dataclass
class Master:
    """The generated master data, by chain; items are indexes into ``products``."""

    products: list[dict[str, Any]]
    stores: dict[str, list[dict[str, Any]]]
    listings: dict[str, list[dict[str, Any]]]
    promotions: dict[str, list[dict[str, Any]]]

    def store_index(self, chain: str, store_code: str) -> int:
        return next(k for k, s in enumerate(self.stores[chain]) if s["store_code"] == store_code)


def build_products() -> list[dict[str, Any]]:
    products = []
    for k, (name, brand, category, std, base, case, new) in enumerate(PRODUCTS):
        if brand == "Maple Ridge":  # imported: a UPC as GTIN-13, leading zero
            barcode = make_gtin13(f"0078654{k:05d}")
        else:
            barcode = make_gtin13(f"6923450{k + 101:05d}")
        floor = (std * 82 // 100) // 10 * 10  # 82 % of retail, down to 0.10
        supply = std * 66 // 100
        cost = std * 42 // 100
        assert cost < supply < floor < std, name
        products.append(
            {
                "barcode": barcode,
                "name": name,
                "brand": brand,
                "category": category,
                "unit_cost": cost,
                "supply_price": supply,
                "std_retail_price": std,
                "floor_price": floor,
                "base": base,
                "case": case,
                "new": new,
            }
        )
    return products


def store_code(chain: str, si: int) -> str:
    """Store codes by chain: CRF001.., R0101.., and Walmart's numbers 2031, 2048, .."""
    if chain == "CRF":
        return f"CRF{si + 1:03d}"
    if chain == "RTM":
        return f"R{si + 101:04d}"
    return str(2031 + si * 17)


def build_master(span: Span, rnd: random.Random, reserved: set[int]) -> Master:
    """Stores, listings and random promotions; ``reserved`` items stay out of promotions."""
    products = build_products()
    new_items = [i for i, p in enumerate(products) if p["new"]]
    launch = [month_start(span.rel(0.3)), month_start(span.rel(0.6))]
    launch = [d if d >= span.start else next_month(d) for d in launch]
    # regular items are listed well before the range, whatever the range
    listed_since = min(date(2024, 1, 1), date(span.start.year - 1, 1, 1))

    stores: dict[str, list[dict[str, Any]]] = {}
    listings: dict[str, list[dict[str, Any]]] = {}
    for chain in CHAINS:
        code = chain["code"]
        model = CHAIN_MODEL[code]
        rows = []
        classes = list(model["classes"])
        if model["new_store"]:
            classes.append(model["new_store"][0])
        for si, cls in enumerate(classes):
            city, region, district = model["sites"][si]
            area = {
                "A": rnd.randrange(5000, 12001, 50),
                "B": rnd.randrange(2000, 5000, 50),
                "C": rnd.randrange(600, 2000, 50),
            }[cls]
            assert store_class(area) == cls
            opened = date(rnd.randint(2006, 2023), rnd.randint(1, 12), rnd.randint(1, 28))
            opened = min(opened, span.start - timedelta(days=400))
            closed = None
            if model["new_store"] and si == len(classes) - 1:
                opened = span.rel(model["new_store"][1])
            if model["closed_store"] and si == 10:
                closed = span.rel(model["closed_store"])
            rows.append(
                {
                    "chain_code": code,
                    "store_code": store_code(code, si),
                    "name": f"{chain['name_local']}{city}{district}店",
                    "name_en": f"{chain['name']} {CITY_EN[city]} {DISTRICT_EN[district]}",
                    "city": city,
                    "region": region,
                    "area_m2": area,
                    "opened_on": opened,
                    "closed_on": closed,
                    "class": cls,
                }
            )
        stores[code] = rows

        # listings: most regular items from long before the range, new items at launch
        regular = [i for i, p in enumerate(products) if not p["new"]]
        droppable = [i for i in regular if i not in reserved]
        dropped = set(rnd.sample(droppable, {"CRF": 1, "RTM": 3, "WMT": 4}[code]))
        chain_listings = [
            {"barcode_idx": i, "listed_from": listed_since, "listed_to": None, "classes": ""}
            for i in regular
            if i not in dropped
        ]
        for n, i in enumerate(new_items):
            if code == "WMT" and n == 1:
                continue  # Walmart did not take the second new item
            when = launch[n] if code == "CRF" else next_month(launch[n])
            if when <= span.end:
                chain_listings.append(
                    {"barcode_idx": i, "listed_from": when, "listed_to": None, "classes": ""}
                )
        if code == "RTM":  # one delisting late in the range (never a reserved item)
            last = [x for x in chain_listings if x["barcode_idx"] not in reserved][-5]
            last["listed_to"] = month_end(span.rel(0.8))
        listings[code] = chain_listings

    promotions: dict[str, list[dict[str, Any]]] = {}
    n_promos = max(3, round(span.n_days / 60))
    for chain in CHAINS:
        code = chain["code"]
        promos: list[dict[str, Any]] = []
        for k in range(n_promos):
            first = span.rel((k + 0.1 + 0.4 * rnd.random()) / n_promos)
            last = min(first + timedelta(days=rnd.randint(9, 20)), span.end)
            candidates = [
                x["barcode_idx"]
                for x in listings[code]
                if x["listed_from"] <= first
                and (x["listed_to"] is None or x["listed_to"] >= last)
                and x["barcode_idx"] not in reserved
                and not any(
                    x["barcode_idx"] in p["items"] and p["start"] <= last and first <= p["end"]
                    for p in promos
                )
            ]
            items = sorted(rnd.sample(candidates, 2 if rnd.random() < 0.3 else 1))
            classes = rnd.choice(["A,B", "", "A", "A,B", ""])
            promo = {
                "promo_id": f"{code}-PR-{first:%y%m}-{k + 1:02d}",
                "items": items,
                "store_classes": classes,
                "start": first,
                "end": last,
                "price": {},
                "subsidy": {},
            }
            for i in items:
                p = products[i]
                disc = rnd.choice([85, 88, 90])
                price = max(p["floor_price"], p["std_retail_price"] * disc // 100 // 10 * 10)
                promo["price"][i] = price
                promo["subsidy"][i] = max(1, (p["std_retail_price"] - price) * 60 // 100)
            promos.append(promo)
        promotions[code] = promos
    return Master(products, stores, listings, promotions)


HEAD = "# Demo data set written by ka_demo (see docs/demo.md).\n"


def write_chains(folder: Path) -> None:
    """chains.yaml (with the feed layouts the writer reads back) and owners.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    chains = []
    for chain in CHAINS:
        entry = dict(chain)
        entry["feeds"] = FEED_LAYOUTS[chain["code"]]
        if chain["code"] in CHAIN_RULES:
            entry["deduction_types"] = CHAIN_RULES[chain["code"]]
        chains.append(entry)
    dump_yaml(folder / "chains.yaml", HEAD, {"chains": chains})
    dump_yaml(folder / "owners.yaml", HEAD, {"owners": OWNERS})


def write_master(
    folder: Path,
    master: Master,
    contracts: list[dict[str, Any]],
    targets: list[tuple[tuple[str, date], int]],
) -> None:
    """contracts.yaml and the master-data CSVs. stores.csv carries an extra ``name_en``
    and listings.csv an extra ``store_classes`` (empty: every class must carry it)."""
    dump_yaml(folder / "contracts.yaml", HEAD, {"contracts": contracts})
    write_csv(
        folder / "stores.csv",
        [*MASTER_COLUMNS["stores"], "name_en"],
        [
            [
                s["chain_code"],
                s["store_code"],
                s["name"],
                s["city"],
                s["region"],
                str(s["area_m2"]),
                s["opened_on"].isoformat(),
                s["closed_on"].isoformat() if s["closed_on"] else "",
                s["name_en"],
            ]
            for code in master.stores
            for s in master.stores[code]
        ],
    )
    write_csv(
        folder / "products.csv",
        list(MASTER_COLUMNS["products"]),
        [
            [
                p["barcode"],
                p["name"],
                p["brand"],
                p["category"],
                money(p["unit_cost"]),
                money(p["supply_price"]),
                money(p["std_retail_price"]),
                money(p["floor_price"]),
            ]
            for p in master.products
        ],
    )
    write_csv(
        folder / "listings.csv",
        [*MASTER_COLUMNS["listings"], "store_classes"],
        [
            [
                code,
                master.products[x["barcode_idx"]]["barcode"],
                x["listed_from"].isoformat(),
                x["listed_to"].isoformat() if x["listed_to"] else "",
                x["classes"],
            ]
            for code in master.listings
            for x in master.listings[code]
        ],
    )
    write_csv(
        folder / "promotions.csv",
        list(MASTER_COLUMNS["promotions"]),
        [
            [
                p["promo_id"],
                code,
                master.products[i]["barcode"],
                p["store_classes"],
                p["start"].isoformat(),
                p["end"].isoformat(),
                money(p["price"][i]),
                money(p["subsidy"][i]),
            ]
            for code in master.promotions
            for p in master.promotions[code]
            for i in p["items"]
        ],
    )
    write_csv(
        folder / "targets.csv",
        list(MASTER_COLUMNS["targets"]),
        [[code, month.isoformat(), money(cents)] for (code, month), cents in targets],
    )
