"""A realistic, deterministic demo data set: master data, chain layouts and feed files.

:func:`generate` writes ``home/config`` (everything :func:`ka_pipeline.config.load_config`
reads) and ``home/feeds/<CHAIN>/...`` (the files the chains and the ERP send), and a
manifest ``home/demo_manifest.json`` listing the counts and every planted problem, so that
tests can check that the pipeline flags each one. It replaces ``home/config`` and
``home/feeds`` and touches nothing else in ``home``.

Guarantees: the same seed and range give byte-identical files (XLSX parts carry fixed
timestamps); money is computed in integer cents and written with 2 decimals; every
event (new stores, new listings, promotions, planted problems) is placed relative to the
range, so a short range still holds one of each where the calendar allows.

Three chains, three layouts (docs/demo.md):

- ``CRF`` Carrefour: canonical UTF-8 CSV, ISO dates, sends promo and on-hand columns.
- ``RTM`` RT-Mart: GBK CSV, Chinese headers, ``%Y/%m/%d`` dates, ``1,234.50`` amounts.
- ``WMT`` Walmart: XLSX with English non-canonical headers, text cells, ``%m/%d/%Y``.

Invoices come from the supplier's ERP in the canonical CSV layout for every chain.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import random
import re
import shutil
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import yaml

from ka_pipeline.config import FEED_COLUMNS, MASTER_COLUMNS, FeedLayout, store_class
from ka_pipeline.gtin import make_gtin13

VAT_PCT = 13
CNY = {2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6)}
MID_AUTUMN = {2025: date(2025, 10, 6), 2026: date(2026, 9, 25), 2027: date(2027, 9, 15)}
FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_XML_TIME = "2026-01-01T00:00:00Z"

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
# Tier thresholds as shares of the eligible sell-in the generated data reaches in that
# contract year: by the end of the data tier 2 is reached and tier 3 remains.
TIER_SHARES = (Decimal("0.45"), Decimal("0.85"), Decimal("1.25"))


# --------------------------------------------------------------------------- summary


@dataclass
class DemoSummary:
    """What :func:`generate` wrote; also saved as ``home/demo_manifest.json``."""

    seed: int
    start: date
    end: date
    chains: int = 0
    owners: int = 0
    stores: int = 0
    products: int = 0
    promotions: int = 0
    files: dict[str, int] = field(default_factory=dict)  # feed -> files
    rows: dict[str, int] = field(default_factory=dict)  # feed -> data rows
    by_chain: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    planted: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"

    def describe(self) -> str:
        """A few lines for the console."""
        kinds: dict[str, int] = {}
        for entry in self.planted:
            kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
        lines = [
            f"demo data {self.start} .. {self.end} (seed {self.seed}): {self.chains} chains, "
            f"{self.stores} stores, {self.products} products, {self.promotions} promotions, "
            f"{self.owners} owners"
        ]
        for feed in self.files:
            lines.append(f"  {feed:<10} {self.files[feed]:>6} files {self.rows[feed]:>9,} rows")
        lines.append(
            "  planted: "
            + ", ".join(f"{kind} x{n}" for kind, n in kinds.items())
            + " (see demo_manifest.json)"
        )
        return "\n".join(lines)

    def planted_of(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.planted if p["kind"] == kind]


# --------------------------------------------------------------------------- helpers


def money(cents: int, thousands: bool = False) -> str:
    """Integer cents as a 2-decimal amount, optionally with thousands separators."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{frac:02d}" if thousands else f"{sign}{whole}.{frac:02d}"


def _dec(cents: int) -> str:
    return money(cents)


def _vat(net_cents: np.ndarray) -> np.ndarray:
    # 13 % VAT, half up to the cent, in integers (net is never negative on invoices).
    return (net_cents * VAT_PCT + 50) // 100


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def _month_end(d: date) -> date:
    return _next_month(d) - timedelta(days=1)


def _nice(value: Decimal) -> Decimal:
    """Round a threshold to 2 significant digits (1,234,567 -> 1,200,000)."""
    whole = max(int(value), 100)
    step = 10 ** max(len(str(whole)) - 2, 0)
    return Decimal(int((Decimal(whole) / step).quantize(Decimal("1"), ROUND_HALF_UP)) * step)


def _rebate_earned(base: Decimal, tiers: list[tuple[Decimal, Decimal]], method: str) -> Decimal:
    """Rebate for a base; a threshold reached exactly counts as reached (domain.md 5)."""
    if method == "retroactive":
        rate = Decimal(0)
        for threshold, tier_rate in tiers:
            if base >= threshold:
                rate = tier_rate
        return base * rate
    earned = Decimal(0)
    for i, (threshold, tier_rate) in enumerate(tiers):
        upper = tiers[i + 1][0] if i + 1 < len(tiers) else None
        if base <= threshold:
            break
        band_top = base if upper is None else min(base, upper)
        earned += (band_top - threshold) * tier_rate
    return earned


def _write_csv(path: Path, header: list[str], rows, encoding: str = "utf-8") -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
_EMPTY_SHEET_DATA = b"<sheetData></sheetData>"


@functools.lru_cache(maxsize=8)
def _xlsx_template(sheet: str) -> tuple[tuple[str, bytes], ...]:
    """openpyxl's parts for a workbook with one empty sheet, timestamps fixed."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    workbook.create_sheet(sheet)
    raw = io.BytesIO()
    workbook.save(raw)
    parts = []
    with zipfile.ZipFile(raw) as src:
        for name in src.namelist():
            data = src.read(name)
            if name == "docProps/core.xml":
                data = _CORE_TIME.sub(rb"\g<1>" + FIXED_XML_TIME.encode() + rb"\g<2>", data)
            parts.append((name, data))
    assert any(_EMPTY_SHEET_DATA in data for _, data in parts)
    return tuple(parts)


def _column_letters(n: int) -> list[str]:
    letters = []
    for k in range(1, n + 1):
        name = ""
        while k:
            k, rem = divmod(k - 1, 26)
            name = chr(65 + rem) + name
        letters.append(name)
    return letters


def _write_xlsx(path: Path, sheet: str, header: list[str], rows) -> None:
    """An XLSX whose cells are all text (inline strings); an empty value leaves the cell
    out. Built from openpyxl's parts with the sheet XML written directly, which is ~20x
    faster than openpyxl per cell; timestamps are fixed so equal data gives equal bytes."""
    letters = _column_letters(len(header))
    out = ["<sheetData>"]
    for r, row in enumerate([header, *rows], 1):
        out.append(f'<row r="{r}">')
        for letter, value in zip(letters, row, strict=True):
            if value == "" or value is None:
                continue
            text = escape(str(value))
            out.append(f'<c r="{letter}{r}" t="inlineStr"><is><t>{text}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData>")
    sheet_data = "".join(out).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in _xlsx_template(sheet):
            if name.startswith("xl/worksheets/"):
                data = data.replace(_EMPTY_SHEET_DATA, sheet_data)
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


# --------------------------------------------------------------------------- generator


class _Demo:
    def __init__(self, home: Path, seed: int, start: date, end: date):
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        self.home = Path(home)
        self.seed = seed
        self.start = start
        self.end = end
        self.days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        self.n_days = len(self.days)
        self.rnd = random.Random(seed)
        self.summary = DemoSummary(seed=seed, start=start, end=end)
        self.layouts = {
            code: {feed: FeedLayout(feed=feed, **spec) for feed, spec in feeds.items()}
            for code, feeds in FEED_LAYOUTS.items()
        }

    def np_rng(self, *keys: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *keys])

    def rel(self, frac: float) -> date:
        """The date at a fraction of the range."""
        return self.days[min(self.n_days - 1, max(0, round(frac * (self.n_days - 1))))]

    def plant(self, **entry: Any) -> None:
        self.summary.planted.append(entry)

    def count(self, chain: str, feed: str, files: int, rows: int) -> None:
        per = self.summary.by_chain.setdefault(chain, {}).setdefault(feed, {"files": 0, "rows": 0})
        per["files"] += files
        per["rows"] += rows
        self.summary.files[feed] = self.summary.files.get(feed, 0) + files
        self.summary.rows[feed] = self.summary.rows.get(feed, 0) + rows

    # ---------------------------------------------------------------- master data

    def build_master(self) -> None:
        rnd = self.rnd
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
        self.products = products
        self.n_items = len(products)
        new_items = [i for i, p in enumerate(products) if p["new"]]
        launch = [_month_start(self.rel(0.3)), _month_start(self.rel(0.6))]
        launch = [d if d >= self.start else _next_month(d) for d in launch]

        self.stores: dict[str, list[dict[str, Any]]] = {}
        self.listings: dict[str, list[dict[str, Any]]] = {}
        for chain in CHAINS:
            code = chain["code"]
            model = CHAIN_MODEL[code]
            stores = []
            classes = list(model["classes"])
            sites = model["sites"]
            if model["new_store"]:
                classes.append(model["new_store"][0])
            for si, cls in enumerate(classes):
                city, region, district = sites[si]
                area = {
                    "A": rnd.randrange(5000, 12001, 50),
                    "B": rnd.randrange(2000, 5000, 50),
                    "C": rnd.randrange(600, 2000, 50),
                }[cls]
                assert store_class(area) == cls
                opened = date(rnd.randint(2006, 2023), rnd.randint(1, 12), rnd.randint(1, 28))
                closed = None
                if model["new_store"] and si == len(classes) - 1:
                    opened = self.rel(model["new_store"][1])
                if model["closed_store"] and si == 10:
                    closed = self.rel(model["closed_store"])
                if code == "CRF":
                    store_code = f"CRF{si + 1:03d}"
                elif code == "RTM":
                    store_code = f"R{si + 101:04d}"
                else:
                    store_code = str(2031 + si * 17)
                stores.append(
                    {
                        "chain_code": code,
                        "store_code": store_code,
                        "name": f"{chain['name_local']}{city}{district}店",
                        "city": city,
                        "region": region,
                        "area_m2": area,
                        "opened_on": opened,
                        "closed_on": closed,
                        "class": cls,
                    }
                )
            self.stores[code] = stores

            # listings: most regular items from long before the range, new items at launch
            regular = [i for i, p in enumerate(products) if not p["new"]]
            dropped = set(rnd.sample(regular, {"CRF": 1, "RTM": 3, "WMT": 4}[code]))
            listings = []
            for i in regular:
                if i in dropped:
                    continue
                listings.append(
                    {"barcode_idx": i, "listed_from": date(2024, 1, 1), "listed_to": None}
                )
            for n, i in enumerate(new_items):
                if code == "WMT" and n == 1:
                    continue  # Walmart did not take the second new item
                when = launch[n] if code == "CRF" else _next_month(launch[n])
                if when <= self.end:
                    listings.append({"barcode_idx": i, "listed_from": when, "listed_to": None})
            if code == "RTM":  # one delisting late in the range
                listings[-5]["listed_to"] = _month_end(self.rel(0.8))
            self.listings[code] = listings

        # promotions per chain, no two on the same item overlapping
        self.promotions: dict[str, list[dict[str, Any]]] = {}
        n_promos = max(3, round(self.n_days / 60))
        for chain in CHAINS:
            code = chain["code"]
            promos: list[dict[str, Any]] = []
            for k in range(n_promos):
                first = self.rel((k + 0.1 + 0.4 * rnd.random()) / n_promos)
                last = min(first + timedelta(days=rnd.randint(9, 20)), self.end)
                candidates = [
                    x["barcode_idx"]
                    for x in self.listings[code]
                    if x["listed_from"] <= first
                    and (x["listed_to"] is None or x["listed_to"] >= last)
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
            self.promotions[code] = promos

    def write_config(self) -> None:
        folder = self.home / "config"
        folder.mkdir(parents=True)
        chains = []
        for chain in CHAINS:
            entry = dict(chain)
            entry["feeds"] = FEED_LAYOUTS[chain["code"]]
            if chain["code"] in CHAIN_RULES:
                entry["deduction_types"] = CHAIN_RULES[chain["code"]]
            chains.append(entry)
        head = "# Demo data set written by ka_pipeline.demo (see docs/demo.md).\n"

        def dump(doc: Any) -> str:
            return yaml.dump(
                doc, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False, width=100
            )

        (folder / "chains.yaml").write_text(head + dump({"chains": chains}), encoding="utf-8")
        (folder / "owners.yaml").write_text(head + dump({"owners": OWNERS}), encoding="utf-8")
        (folder / "contracts.yaml").write_text(
            head + dump({"contracts": self.contracts_doc()}), encoding="utf-8"
        )

        _write_csv(
            folder / "stores.csv",
            list(MASTER_COLUMNS["stores"]),
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
                ]
                for code in self.stores
                for s in self.stores[code]
            ],
        )
        _write_csv(
            folder / "products.csv",
            list(MASTER_COLUMNS["products"]),
            [
                [
                    p["barcode"],
                    p["name"],
                    p["brand"],
                    p["category"],
                    _dec(p["unit_cost"]),
                    _dec(p["supply_price"]),
                    _dec(p["std_retail_price"]),
                    _dec(p["floor_price"]),
                ]
                for p in self.products
            ],
        )
        _write_csv(
            folder / "listings.csv",
            list(MASTER_COLUMNS["listings"]),
            [
                [
                    code,
                    self.products[x["barcode_idx"]]["barcode"],
                    x["listed_from"].isoformat(),
                    x["listed_to"].isoformat() if x["listed_to"] else "",
                ]
                for code in self.listings
                for x in self.listings[code]
            ],
        )
        _write_csv(
            folder / "promotions.csv",
            list(MASTER_COLUMNS["promotions"]),
            [
                [
                    p["promo_id"],
                    code,
                    self.products[i]["barcode"],
                    p["store_classes"],
                    p["start"].isoformat(),
                    p["end"].isoformat(),
                    _dec(p["price"][i]),
                    _dec(p["subsidy"][i]),
                ]
                for code in self.promotions
                for p in self.promotions[code]
                for i in p["items"]
            ],
        )
        _write_csv(
            folder / "targets.csv",
            list(MASTER_COLUMNS["targets"]),
            [[code, month.isoformat(), _dec(cents)] for (code, month), cents in self.targets],
        )
        self.summary.chains = len(CHAINS)
        self.summary.owners = len(OWNERS)
        self.summary.stores = sum(len(v) for v in self.stores.values())
        self.summary.products = len(self.products)
        self.summary.promotions = sum(len(v) for v in self.promotions.values())

    def contracts_doc(self) -> list[dict[str, Any]]:
        docs = []
        for chain in CHAINS:
            code = chain["code"]
            method, promo_excluded, rates = REBATE[code]
            for year in range(self.start.year, self.end.year + 1):
                docs.append(
                    {
                        "chain": code,
                        "year": year,
                        "contract_no": f"{code}-{year}",
                        "start": date(year, 1, 1),
                        "end": date(year, 12, 31),
                        "margin_guarantee_pct": None,
                        # the demo's fee amounts are the charged (VAT-inclusive) prices
                        "fee_amounts": "incl_vat",
                        "fees": [
                            {"type": kind, "basis": basis, "amount": _dec(cents)}
                            for kind, (basis, cents) in FEES[code].items()
                        ],
                        "rebate": {
                            "base": "sell_in",
                            "method": method,
                            "promo_excluded": promo_excluded,
                            "tiers": [
                                {"tier": n + 1, "threshold": money(int(t) * 100), "rate": r}
                                for n, (t, r) in enumerate(
                                    zip(self.tiers[(code, year)], rates, strict=True)
                                )
                            ],
                        },
                    }
                )
        return docs

    # ---------------------------------------------------------------- sales

    def day_factors(self) -> np.ndarray:
        """Seasonality: month, weekday, Chinese New Year, golden week, mid-autumn."""
        month_f = {
            1: 1.1,
            2: 1.0,
            3: 0.9,
            4: 0.92,
            5: 1.0,
            6: 1.05,
            7: 1.12,
            8: 1.12,
            9: 1.0,
            10: 1.05,
            11: 0.98,
            12: 1.05,
        }
        out = np.empty(self.n_days)
        for k, d in enumerate(self.days):
            f = month_f[d.month] * (1.3 if d.weekday() >= 5 else 1.1 if d.weekday() == 4 else 1.0)
            new_year = CNY.get(d.year)
            to_cny = (d - new_year).days if new_year else 999
            if -21 <= to_cny < 0:
                f *= 1.3 + 0.04 * (21 + to_cny)  # the build-up to Chinese New Year
            elif 0 <= to_cny < 7:
                f *= 1.2
            if d.month == 10 and d.day <= 7:
                f *= 1.3  # National Day golden week
            moon = MID_AUTUMN.get(d.year)
            if moon and -7 <= (d - moon).days <= 0:
                f *= 1.15
            out[k] = f
        return out

    def build_sales(self, ci: int, code: str) -> pd.DataFrame:
        rng = self.np_rng(ci, 1)
        model = CHAIN_MODEL[code]
        stores = self.stores[code]
        n_s, n_i, n_d = len(stores), self.n_items, self.n_days
        day_ord = np.array([d.toordinal() for d in self.days])

        f_d = self.day_factors() * model["mult"]
        open_ds = np.zeros((n_d, n_s), bool)
        for s, st in enumerate(stores):
            lo = st["opened_on"].toordinal()
            hi = st["closed_on"].toordinal() if st["closed_on"] else 10**7
            open_ds[:, s] = (day_ord >= lo) & (day_ord < hi)
        listed_di = np.zeros((n_d, n_i), bool)
        for x in self.listings[code]:
            lo = x["listed_from"].toordinal()
            hi = x["listed_to"].toordinal() if x["listed_to"] else 10**7
            listed_di[:, x["barcode_idx"]] |= (day_ord >= lo) & (day_ord <= hi)

        std = np.array([p["std_retail_price"] for p in self.products], np.int64)
        price = np.broadcast_to(std, (n_d, n_s, n_i)).copy()
        promo_idx = np.full((n_d, n_s, n_i), -1, np.int16)
        cls = [st["class"] for st in stores]
        for k, p in enumerate(self.promotions[code]):
            dmask = (day_ord >= p["start"].toordinal()) & (day_ord <= p["end"].toordinal())
            allowed = set(p["store_classes"].split(",")) if p["store_classes"] else None
            smask = np.array([allowed is None or c in allowed for c in cls])
            for i in p["items"]:
                sel = np.ix_(dmask, smask, [i])
                price[sel] = p["price"][i]
                promo_idx[sel] = k
        in_promo = promo_idx >= 0

        base = np.array([p["base"] for p in self.products])
        p_item = np.clip(0.38 + 0.07 * base, 0.38, 0.93)
        class_p = np.array([CLASS_P[c] for c in cls])
        class_mu = np.array([CLASS_MU[c] for c in cls])
        p_si = np.clip(
            class_p[:, None] * p_item[None, :] * rng.uniform(0.75, 1.1, (n_s, n_i)), 0.05, 0.95
        )
        uplift = np.where(in_promo, 2.6, 1.0)
        expo = f_d[:, None, None] * uplift  # seasonality, weekday, promo
        p_sell = 1 - (1 - p_si[None, :, :]) ** expo
        sold = rng.random((n_d, n_s, n_i)) < p_sell
        trend = (1 + model["growth"]) ** ((day_ord - date(2025, 9, 1).toordinal()) / 365.25)
        mu = base[None, None, :] * class_mu[None, :, None] * expo * trend[:, None, None]
        units = 1 + rng.poisson(np.maximum(mu - 1, 0.05))
        returns = (rng.random((n_d, n_s, n_i)) < 0.003) & ~in_promo
        units = np.where(returns, -rng.integers(1, 3, (n_d, n_s, n_i)), units)
        keep = (sold | returns) & open_ds[:, :, None] & listed_di[:, None, :]
        on_hand = rng.poisson(np.maximum(mu * 6, 3.0)) + 2
        on_hand = np.where(rng.random((n_d, n_s, n_i)) < 0.02, 0, on_hand)

        d_idx, s_idx, i_idx = np.nonzero(keep)  # C order: day, store, item
        frame = pd.DataFrame(
            {
                "day": d_idx.astype(np.int32),
                "store": s_idx.astype(np.int32),
                "item": i_idx.astype(np.int32),
                "units": units[keep].astype(np.int64),
                "price": price[keep].astype(np.int64),
                "promo": promo_idx[keep].astype(np.int32),
                "on_hand": on_hand[keep].astype(np.int64),
            }
        )
        frame["amount"] = frame["units"] * frame["price"]
        frame["promo_units"] = np.where(frame["promo"] >= 0, frame["units"], 0)
        frame["promo_amount"] = np.where(frame["promo"] >= 0, frame["amount"], 0)
        frame["bad"] = ""  # planted bad values, by column name
        frame["bad_value"] = ""
        return frame

    def plant_sales(self, code: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, int | None]:
        """Below-floor prices, bad rows and a missing day; returns (frame, missing day)."""
        rng = self.np_rng(CHAIN_INDEX[code], 2)
        floor = np.array([p["floor_price"] for p in self.products], np.int64)
        promo_days = np.zeros(self.n_days, bool)
        for p in self.promotions[code]:
            for k, d in enumerate(self.days):
                if p["start"] <= d <= p["end"]:
                    promo_days[k] = True

        def pick(day_frac: float, where) -> int:
            """A non-promo row with units > 0 on or after the day at day_frac."""
            start_day = self.days.index(self.rel(day_frac))
            for day in list(range(start_day, self.n_days)) + list(range(start_day)):
                rows = frame.index[
                    (frame["day"] == day)
                    & (frame["promo"] < 0)
                    & (frame["units"] > 0)
                    & (frame["bad"] == "")
                    & where(frame)
                ]
                if len(rows):
                    return int(rows[rng.integers(len(rows))])
            raise RuntimeError("no row to plant")

        # below-floor prices: one store x item for five days (diversion-like), RTM and WMT
        if code in ("RTM", "WMT"):
            first = pick(0.35 if code == "RTM" else 0.5, lambda f: f["units"] > 0)
            store, item, day0 = (int(frame.at[first, c]) for c in ("store", "item", "day"))
            rows = frame.index[
                (frame["store"] == store)
                & (frame["item"] == item)
                & (frame["promo"] < 0)
                & (frame["units"] > 0)
                & (frame["day"] >= day0)
                & (frame["day"] < day0 + 7)
            ]
            cut_price = floor[item] * 85 // 100
            frame.loc[rows, "price"] = cut_price
            frame.loc[rows, "amount"] = frame.loc[rows, "units"] * cut_price
            frame.loc[rows, "bad"] = "below_floor"
        # bad values
        bad_specs = {
            "CRF": [(0.4, "barcode", "check_digit"), (0.62, "sales_amount", "non_numeric")],
            "RTM": [(0.45, "store_code", "unknown_store"), (0.6, "business_date", "bad_date")],
            "WMT": [(0.5, "store_code", "missing_store"), (0.55, "sales_amount", "non_numeric")],
        }[code]
        for frac, column, reason in bad_specs:
            row = pick(frac, lambda f: f["bad"] == "")
            frame.at[row, "bad"] = reason
            frame.at[row, "bad_value"] = column
        missing = None
        if code == "RTM":
            bad_days = set(frame.loc[frame["bad"] != "", "day"])
            start_day = self.days.index(self.rel(0.7))
            # the nearest day without an RTM promotion (a missing promo day would make the
            # chain's subsidy claims look like overclaims), never the first or last day
            order = sorted(range(1, self.n_days - 1), key=lambda k: (abs(k - start_day), k))
            missing = next((k for k in order if not promo_days[k] and k not in bad_days), start_day)
        return frame, missing

    def write_sales(self, code: str, frame: pd.DataFrame, missing: int | None) -> None:
        layout = self.layouts[code]["sales"]
        stores = self.stores[code]
        store_codes = np.array([s["store_code"] for s in stores], object)
        barcodes = np.array([p["barcode"] for p in self.products], object)
        thousands = code == "RTM"
        frame = frame.sort_values(["day", "store", "item"], kind="stable")
        col_store = store_codes[frame["store"].to_numpy()].tolist()
        col_barcode = barcodes[frame["item"].to_numpy()].tolist()
        col_units = frame["units"].astype(str).tolist()
        col_amount = [money(c, thousands) for c in frame["amount"].tolist()]
        col_pu = frame["promo_units"].astype(str).tolist()
        col_pa = [money(c) for c in frame["promo_amount"].tolist()]
        col_oh = frame["on_hand"].astype(str).tolist()
        bad = frame["bad"].tolist()
        day_arr = frame["day"].to_numpy()
        bounds = np.searchsorted(day_arr, np.arange(self.n_days + 1))
        files = rows = 0
        for day in range(self.n_days):
            d = self.days[day]
            rel_path = layout.path_for(d)
            if day == missing:
                self.plant(
                    kind="missing_feed",
                    chain=code,
                    feed="sales",
                    file=rel_path,
                    business_date=d.isoformat(),
                    expected="missing feed reported",
                )
                continue
            lo, hi = bounds[day], bounds[day + 1]
            dstr = d.strftime(layout.date_format)
            n = hi - lo
            c_date = [dstr] * n
            c_store, c_bar = col_store[lo:hi], col_barcode[lo:hi]
            c_units, c_amt = col_units[lo:hi], col_amount[lo:hi]
            for j in range(lo, hi):
                reason = bad[j]
                if not reason:
                    continue
                k = j - lo
                entry = {
                    "chain": code,
                    "feed": "sales",
                    "file": rel_path,
                    "row": int(k + 1),
                    "business_date": d.isoformat(),
                    "store_code": col_store[j],
                    "barcode": col_barcode[j],
                }
                if reason == "below_floor":
                    units = int(frame["units"].iat[j])
                    self.plant(
                        kind="below_floor_price",
                        **entry,
                        units=units,
                        sales_amount=col_amount[j].replace(",", ""),
                        floor_price=_dec(self.products[frame["item"].iat[j]]["floor_price"]),
                        expected="row counted as below floor price",
                    )
                    continue
                if reason == "check_digit":
                    good = col_barcode[j]
                    c_bar = list(c_bar)
                    c_bar[k] = good[:12] + str((int(good[12]) + 3) % 10)
                    value = c_bar[k]
                elif reason == "unknown_store":
                    c_store = list(c_store)
                    c_store[k] = value = "R9999"
                elif reason == "missing_store":
                    c_store = list(c_store)
                    c_store[k] = value = ""
                elif reason == "non_numeric":
                    c_amt = list(c_amt)
                    c_amt[k] = value = "N/A"
                elif reason == "bad_date":
                    c_date = list(c_date)
                    c_date[k] = value = f"{d:%Y/%m}/32"
                else:  # pragma: no cover
                    raise AssertionError(reason)
                self.plant(
                    kind="bad_row",
                    reason=reason,
                    column=frame["bad_value"].iat[j],
                    value=value,
                    **entry,
                    expected="row quarantined",
                )
            path = self.home / "feeds" / code / rel_path
            if code == "CRF":
                header = [
                    "business_date",
                    "store_code",
                    "barcode",
                    "units",
                    "sales_amount",
                    "promo_units",
                    "promo_amount",
                    "on_hand_units",
                ]
                body = zip(
                    c_date,
                    c_store,
                    c_bar,
                    c_units,
                    c_amt,
                    col_pu[lo:hi],
                    col_pa[lo:hi],
                    col_oh[lo:hi],
                    strict=True,
                )
                _write_csv(path, header, body)
            elif code == "RTM":
                cols = layout.columns
                header = [
                    cols["business_date"],
                    cols["store_code"],
                    cols["barcode"],
                    "商品名称",
                    cols["units"],
                    cols["sales_amount"],
                ]
                names = [self.products[i]["name"] for i in frame["item"].iloc[lo:hi]]
                body = zip(c_date, c_store, c_bar, names, c_units, c_amt, strict=True)
                _write_csv(path, header, body, encoding=layout.encoding)
            else:
                cols = layout.columns
                header = [
                    cols["business_date"],
                    cols["store_code"],
                    cols["barcode"],
                    cols["units"],
                    cols["sales_amount"],
                ]
                body = zip(c_date, c_store, c_bar, c_units, c_amt, strict=True)
                _write_xlsx(path, "POS", header, body)
            files += 1
            rows += int(n)
        self.count(code, "sales", files, rows)

    # ---------------------------------------------------------------- invoices

    def build_invoices(self, ci: int, code: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Shipments replenishing sell-out: each ship-to gets, on its delivery days, what
        its stores sell until the next delivery, rounded up to full cases."""
        rng = self.np_rng(ci, 3)
        stores = self.stores[code]
        weekdays = np.array([d.weekday() for d in self.days])
        if code == "CRF":
            ship_to = ["CRF-DC1" if s["region"] in ("华东", "华中") else "CRF-DC2" for s in stores]
            deliver = {t: {0, 2, 4} for t in set(ship_to)}
        elif code == "RTM":
            ship_to = [s["store_code"] for s in stores]
            deliver = {t: {k % 6} for k, t in enumerate(ship_to)}
        else:
            ship_to = ["WMT-DC1" if s["region"] == "华南" else "WMT-DC2" for s in stores]
            deliver = {t: {1, 3} for t in set(ship_to)}
        delivery_day = np.zeros((len(stores), self.n_days), np.int32)
        for s, target in enumerate(ship_to):
            days = np.nonzero(np.isin(weekdays, list(deliver[target])))[0]
            pos = np.searchsorted(days, np.arange(self.n_days), side="right") - 1
            delivery_day[s] = days[np.maximum(pos, 0)]
        promo_ids = [p["promo_id"] for p in self.promotions[code]]
        lines = pd.DataFrame(
            {
                "ship_to": np.array(ship_to, object)[frame["store"].to_numpy()],
                "day": delivery_day[frame["store"].to_numpy(), frame["day"].to_numpy()],
                "item": frame["item"].to_numpy(),
                "promo": frame["promo"].to_numpy(),
                "units": frame["units"].to_numpy(),
            }
        )
        lines = lines.groupby(["ship_to", "item", "promo", "day"], as_index=False, sort=True)[
            "units"
        ].sum()
        # Order up to the cumulative demand (with a little forecast error) in full cases:
        # what was over-shipped in one delivery is netted off the next one.
        case = np.array([p["case"] for p in self.products])[lines["item"].to_numpy()]
        lines["demand"] = lines["units"].to_numpy() * rng.uniform(0.96, 1.08, len(lines))
        series = lines.groupby(["ship_to", "item", "promo"], sort=False)
        lines["cum"] = series["demand"].cumsum()
        lines["cum"] = lines.groupby(["ship_to", "item", "promo"], sort=False)["cum"].cummax()
        lines["shipped"] = np.ceil(np.maximum(lines["cum"].to_numpy(), 0) / case - 1e-9) * case
        before = lines.groupby(["ship_to", "item", "promo"], sort=False)["shipped"].shift(
            1, fill_value=0
        )
        lines["units"] = (lines["shipped"] - before).round().astype(np.int64)
        lines = lines[lines["units"] > 0].drop(columns=["demand", "cum", "shipped"])
        lines = lines.sort_values(["day", "ship_to", "item", "promo"]).reset_index(drop=True)
        supply = np.array([p["supply_price"] for p in self.products], np.int64)
        lines["unit_price"] = supply[lines["item"].to_numpy()]
        lines["net"] = lines["units"] * lines["unit_price"]
        lines["vat"] = _vat(lines["net"].to_numpy())
        lines["promo_id"] = [promo_ids[k] if k >= 0 else "" for k in lines["promo"]]
        # one invoice per ship-to and day, lines numbered from 1
        key = lines["day"].astype(str) + "|" + lines["ship_to"]
        seq = lines.groupby("day")["ship_to"].transform(lambda s: pd.factorize(s)[0] + 1)
        lines["invoice_no"] = [
            f"SI{self.days[d]:%y%m%d}{code}{n:02d}" for d, n in zip(lines["day"], seq, strict=True)
        ]
        lines["line_no"] = lines.groupby(key).cumcount() + 1
        return lines

    def write_invoices(self, code: str, lines: pd.DataFrame) -> None:
        layout = self.layouts[code]["invoices"]
        barcodes = [p["barcode"] for p in self.products]
        header = [*FEED_COLUMNS["invoices"][0], *FEED_COLUMNS["invoices"][1]]  # canonical (ERP)
        day_arr = lines["day"].to_numpy()
        bounds = np.searchsorted(day_arr, np.arange(self.n_days + 1))
        records = list(
            zip(
                lines["invoice_no"],
                lines["line_no"].astype(str),
                lines["ship_to"],
                [barcodes[i] for i in lines["item"]],
                lines["units"].astype(str),
                [money(c) for c in lines["unit_price"]],
                [money(c) for c in lines["net"]],
                [money(c) for c in lines["vat"]],
                lines["promo_id"],
                strict=True,
            )
        )
        for day, d in enumerate(self.days):
            iso = d.isoformat()
            body = [(r[0], r[1], iso, *r[2:]) for r in records[bounds[day] : bounds[day + 1]]]
            _write_csv(self.home / "feeds" / code / layout.path_for(d), header, body)
        self.count(code, "invoices", self.n_days, len(records))

    # ---------------------------------------------------------------- targets, tiers

    def build_targets(self, code: str, frame: pd.DataFrame) -> None:
        """About last year's level + 5..10 %: this year's sell-out / (1 + growth) x that."""
        growth = CHAIN_MODEL[code]["growth"]
        months = np.array([_month_start(d).toordinal() for d in self.days])
        amounts = frame.groupby(months[frame["day"].to_numpy()])["amount"].sum()
        month = _month_start(self.start)
        while month <= self.end:
            actual = int(amounts.get(month.toordinal(), 0))
            days_in = (min(_month_end(month), self.end) - max(month, self.start)).days + 1
            full = actual * ((_month_end(month) - month).days + 1) / max(days_in, 1)
            lift = 1.05 + 0.05 * self.rnd.random()
            target = round(full / (1 + growth) * lift / 100_000) * 100_000  # whole thousands
            self.targets.append(((code, month), max(target, 100_000)))
            month = _next_month(month)

    def build_tiers(self, code: str, lines: pd.DataFrame) -> None:
        _, promo_excluded, _ = REBATE[code]
        eligible = lines[lines["promo_id"] == ""] if promo_excluded else lines
        years = np.array([d.year for d in self.days])[eligible["day"].to_numpy()]
        for year in range(self.start.year, self.end.year + 1):
            base = Decimal(int(eligible["net"][years == year].sum())) / 100
            if base <= 0:  # a contract year without data still gets sensible tiers
                base = Decimal(1_000_000)
            self.tiers[(code, year)] = [_nice(base * share) for share in TIER_SHARES]

    # ---------------------------------------------------------------- deductions

    def pos_promo_units(self, code: str, frame: pd.DataFrame) -> dict[tuple[str, int], int]:
        """POS promo units per (promo_id, item), as the pipeline sees them in the feed."""
        inside = frame[(frame["promo"] >= 0) & (frame["bad"].isin(["", "below_floor"]))]
        grouped = inside.groupby(["promo", "item"])["units"].sum()
        promos = self.promotions[code]
        return {(promos[k]["promo_id"], i): int(u) for (k, i), u in grouped.items()}

    def build_deductions(
        self, code: str, frame: pd.DataFrame, lines: pd.DataFrame
    ) -> list[dict[str, Any]]:
        texts = TEXTS[code]
        fees = FEES[code]
        stores = self.stores[code]
        pos = self.pos_promo_units(code, frame)
        method, promo_excluded, rates = REBATE[code]
        eligible = lines[lines["promo_id"] == ""] if promo_excluded else lines
        elig_ord = np.array([d.toordinal() for d in self.days])[eligible["day"].to_numpy()]
        elig_net = eligible["net"].to_numpy()
        taken: dict[int, Decimal] = {}
        barcodes = [p["barcode"] for p in self.products]

        statements = []
        month = _month_start(self.start)
        while True:
            stmt_date = _next_month(month) + timedelta(days=4)
            if stmt_date > self.end:
                break
            if month >= _month_start(self.start):
                statements.append((month, stmt_date))
            month = _next_month(month)

        out: list[dict[str, Any]] = []
        n_stmt = len(statements)
        # problems go on the latest statements: still disputable in the last scorecard
        mid = n_stmt - 1
        for si, (month, stmt_date) in enumerate(statements):
            year, m_end = month.year, _month_end(month)
            contract = f"{code}-{year}"
            statement_no = f"{code}-ST-{month:%Y%m}"
            rows: list[dict[str, Any]] = []

            def line(
                kind: str,
                cents: int,
                *,
                ref: str,
                start: date,
                end: date,
                store: str = "",
                barcode: str = "",
                units: str = "",
                text: str = "",
                _rows=rows,
            ) -> dict[str, Any]:
                row = {
                    "type": kind,
                    "text": text or texts[kind],
                    "amount": cents,
                    "store_code": store,
                    "barcode": barcode,
                    "units": units,
                    "reference": ref,
                    "period_start": start,
                    "period_end": end,
                }
                _rows.append(row)
                return row

            line("dm_fee", fees["dm_fee"][1], ref=f"{contract}/dm_fee", start=month, end=m_end)
            for st in stores:
                open_all_month = st["opened_on"] < month and (
                    st["closed_on"] is None or st["closed_on"] > m_end
                )
                wants_display = st["class"] == "A" or (
                    code == "RTM" and st["class"] == "B" and int(st["store_code"][1:]) % 3 == 0
                )
                if open_all_month and wants_display:
                    line(
                        "display_fee",
                        fees["display_fee"][1],
                        store=st["store_code"],
                        ref=f"{contract}/display_fee/{st['store_code']}",
                        start=month,
                        end=m_end,
                    )
            if month.month == 1:
                line(
                    "data_fee",
                    fees["data_fee"][1],
                    ref=f"{contract}/data_fee",
                    start=date(year, 1, 1),
                    end=date(year, 12, 31),
                )
            for x in self.listings[code]:
                if self.start < x["listed_from"] and _month_start(x["listed_from"]) == month:
                    bc = barcodes[x["barcode_idx"]]
                    line(
                        "barcode_fee",
                        fees["barcode_fee"][1],
                        barcode=bc,
                        ref=f"{contract}/barcode_fee/{bc}",
                        start=x["listed_from"],
                        end=m_end,
                    )
            if "festival_fee" in fees:
                events = [("CNY", CNY.get(year)), ("NATIONALDAY", date(year, 10, 1))]
                for name, when in events:
                    if when and _month_start(when) == month:
                        line(
                            "festival_fee",
                            fees["festival_fee"][1],
                            ref=f"{contract}/festival_fee/{name}{year}",
                            start=month,
                            end=m_end,
                        )
            if "new_store_fee" in fees:
                for st in stores:
                    if self.start <= st["opened_on"] and _month_start(st["opened_on"]) == month:
                        line(
                            "new_store_fee",
                            fees["new_store_fee"][1],
                            store=st["store_code"],
                            ref=f"{contract}/new_store_fee/{st['store_code']}",
                            start=st["opened_on"],
                            end=st["opened_on"],
                        )
            for p in self.promotions[code]:
                if _month_start(p["end"]) != month:
                    continue
                for i in p["items"]:
                    units = pos.get((p["promo_id"], i), 0)
                    if units > 0:
                        row = line(
                            "promo_subsidy",
                            units * p["subsidy"][i],
                            ref=p["promo_id"],
                            barcode=barcodes[i],
                            units=str(units),
                            start=p["start"],
                            end=p["end"],
                        )
                        row["_promo"] = (p, i)
            if month.month in (3, 6, 9, 12):
                to = m_end.toordinal()
                since = date(year, 1, 1).toordinal()
                base = Decimal(int(elig_net[(elig_ord >= since) & (elig_ord <= to)].sum())) / 100
                tiers = [
                    (t, Decimal(r)) for t, r in zip(self.tiers[(code, year)], rates, strict=True)
                ]
                earned = _rebate_earned(base, tiers, method)
                due = (earned - taken.get(year, Decimal(0))).quantize(
                    Decimal("1"), rounding=ROUND_FLOOR
                )
                if due > 0:
                    taken[year] = taken.get(year, Decimal(0)) + due
                    q_start = date(year, month.month - 2, 1)
                    line(
                        "rebate",
                        int(due * 100),
                        ref=f"{contract}/rebate/Q{month.month // 3}",
                        start=q_start,
                        end=m_end,
                    )

            # planted problems ----------------------------------------------------
            planted: list[tuple[dict[str, Any], dict[str, Any]]] = []
            if code == "CRF" and si == max(1, mid) and si >= 1:
                prev_month = statements[si - 1][0]
                prev_contract = f"{code}-{prev_month.year}"
                row = line(
                    "dm_fee",
                    fees["dm_fee"][1],
                    ref=f"{prev_contract}/dm_fee",
                    start=prev_month,
                    end=_month_end(prev_month),
                )
                original = next(
                    r
                    for r in out
                    if r["statement_no"] == f"{code}-ST-{prev_month:%Y%m}" and r["type"] == "dm_fee"
                )
                planted.append(
                    (
                        row,
                        {
                            "kind": "duplicate",
                            "expected_status": "duplicate",
                            "duplicate_of": {
                                "statement_no": original["statement_no"],
                                "deduction_no": original["deduction_no"],
                            },
                            "disputable": _dec(fees["dm_fee"][1]),
                        },
                    )
                )
            if code == "CRF" and si == mid:
                row = line(
                    "unclassified",
                    123400,
                    text=UNCLASSIFIED_TEXT,
                    ref=f"{statement_no}-ADJ",
                    start=month,
                    end=m_end,
                )
                planted.append(
                    (
                        row,
                        {
                            "kind": "unclassified",
                            "expected_status": "unclassified",
                            "disputable": "0.00",
                        },
                    )
                )
                ids = {p["promo_id"] for p in self.promotions[code]}
                ghost = f"{code}-PR-{month:%y%m}-99"
                assert ghost not in ids
                units = 240
                row = line(
                    "promo_subsidy",
                    units * 100,
                    ref=ghost,
                    barcode=barcodes[0],
                    units=str(units),
                    start=month,
                    end=m_end,
                )
                planted.append(
                    (
                        row,
                        {
                            "kind": "promo_not_found",
                            "expected_status": "promo_not_found",
                            "disputable": _dec(units * 100),
                        },
                    )
                )
            if code == "RTM" and si == mid:
                display = [r for r in rows if r["type"] == "display_fee"]
                row = display[len(display) // 2]
                allowed = fees["display_fee"][1]
                row["amount"] = allowed + 60000
                planted.append(
                    (
                        row,
                        {
                            "kind": "over_contract",
                            "expected_status": "over_contract",
                            "contract_amount": _dec(allowed),
                            "disputable": _dec(60000),
                        },
                    )
                )
                st = stores[3]
                row = line(
                    "anniversary_fee",
                    500000,
                    store=st["store_code"],
                    ref=f"{st['store_code']}-店庆-{year}",
                    start=month,
                    end=m_end,
                )
                planted.append(
                    (
                        row,
                        {
                            "kind": "no_contract_basis",
                            "expected_status": "no_contract_basis",
                            "disputable": _dec(500000),
                        },
                    )
                )
            if (
                code == "WMT"
                and si >= n_stmt - 4
                and not any(p["kind"] == "promo_overclaim" for p in self.summary.planted)
            ):
                claims = [r for r in rows if r["type"] == "promo_subsidy" and "_promo" in r]
                if claims:
                    row = claims[0]
                    promo, i = row["_promo"]
                    pos_units = int(row["units"])
                    claimed = pos_units + max(5, pos_units // 4)
                    row["units"] = str(claimed)
                    row["amount"] = claimed * promo["subsidy"][i]
                    planted.append(
                        (
                            row,
                            {
                                "kind": "promo_overclaim",
                                "expected_status": "promo_overclaim",
                                "pos_promo_units": pos_units,
                                "claimed_units": claimed,
                                "disputable": _dec((claimed - pos_units) * promo["subsidy"][i]),
                            },
                        )
                    )

            layout = self.layouts[code]["deductions"]
            rel_path = layout.path_for(stmt_date)
            for n, row in enumerate(rows, 1):
                row["statement_no"] = statement_no
                row["deduction_no"] = f"{statement_no}-{n:03d}"
                row["deduction_date"] = stmt_date
                row["file"] = rel_path
                row.pop("_promo", None)
            for row, info in planted:
                self.plant(
                    kind=info.pop("kind"),
                    chain=code,
                    feed="deductions",
                    file=rel_path,
                    statement_no=row["statement_no"],
                    deduction_no=row["deduction_no"],
                    deduction_text=row["text"],
                    reference=row["reference"],
                    amount=_dec(row["amount"]),
                    **info,
                )
            out.extend(rows)
        return out

    def write_deductions(self, code: str, rows: list[dict[str, Any]]) -> None:
        layout = self.layouts[code]["deductions"]
        canonical = [
            "statement_no",
            "deduction_no",
            "deduction_date",
            "deduction_text",
            "amount",
            "store_code",
            "barcode",
            "units",
            "reference",
            "period_start",
            "period_end",
        ]
        header = [layout.source_header(c) for c in canonical]
        thousands = layout.thousands == ","
        fmt = layout.date_format
        by_file: dict[str, list[list[str]]] = {}
        for r in rows:
            by_file.setdefault(r["file"], []).append(
                [
                    r["statement_no"],
                    r["deduction_no"],
                    r["deduction_date"].strftime(fmt),
                    r["text"],
                    money(r["amount"], thousands),
                    r["store_code"],
                    r["barcode"],
                    r["units"],
                    r["reference"],
                    r["period_start"].strftime(fmt),
                    r["period_end"].strftime(fmt),
                ]
            )
        for rel_path, body in by_file.items():
            path = self.home / "feeds" / code / rel_path
            if layout.format == "xlsx":
                _write_xlsx(path, "Deductions", header, body)
            else:
                _write_csv(path, header, body, encoding=layout.encoding)
        self.count(code, "deductions", len(by_file), len(rows))

    # ---------------------------------------------------------------- payments

    def write_payments(self, ci: int, code: str, lines: pd.DataFrame) -> None:
        rng = self.np_rng(ci, 4)
        layout = self.layouts[code]["payments"]
        terms = next(c for c in CHAINS if c["code"] == code)["payment_terms_days"]
        invoices = lines.groupby("invoice_no", sort=True).agg(
            day=("day", "first"), net=("net", "sum"), vat=("vat", "sum")
        )
        behaviour = rng.random(len(invoices))
        delay = rng.integers(10, 41, len(invoices))
        fridays = [d for d in self.days if d.weekday() == 4]
        pay_on: dict[date, list[tuple[str, int]]] = {d: [] for d in fridays}
        unpaid = []
        for (invoice_no, inv), b, late in zip(invoices.iterrows(), behaviour, delay, strict=True):
            due = self.days[int(inv["day"])] + timedelta(days=terms)
            gross = int(inv["net"] + inv["vat"])
            if b < 0.03:  # held by the chain: never paid
                if due <= self.end:
                    unpaid.append((invoice_no, due, gross))
                continue
            ready = due + timedelta(days=int(late)) if b < 0.2 else due
            friday = ready + timedelta(days=(4 - ready.weekday()) % 7)
            if friday <= self.end:
                pay_on[friday].append((invoice_no, gross))
        for invoice_no, due, gross in unpaid[:5]:
            self.plant(
                kind="unpaid_invoice",
                chain=code,
                feed="payments",
                invoice_no=invoice_no,
                due_date=due.isoformat(),
                amount=_dec(gross),
                expected="overdue receivable at the end of the range",
            )
        columns = ["payment_no", "payment_date", "invoice_no", "amount"]
        header = [layout.source_header(c) for c in columns]
        thousands = layout.thousands == ","
        rows = 0
        for friday in fridays:
            payment_no = f"{code}-PAY-{friday:%Y%m%d}"
            dstr = friday.strftime(layout.date_format)
            body = [[payment_no, dstr, inv, money(g, thousands)] for inv, g in pay_on[friday]]
            path = self.home / "feeds" / code / layout.path_for(friday)
            if layout.format == "xlsx":
                _write_xlsx(path, "Remittance", header, body)
            else:
                _write_csv(path, header, body, encoding=layout.encoding)
            rows += len(body)
        self.count(code, "payments", len(fridays), rows)

    # ---------------------------------------------------------------- run

    def run(self) -> DemoSummary:
        for folder in ("config", "feeds"):
            shutil.rmtree(self.home / folder, ignore_errors=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.build_master()
        self.targets: list[tuple[tuple[str, date], int]] = []
        self.tiers: dict[tuple[str, int], list[Decimal]] = {}
        for ci, chain in enumerate(CHAINS):
            code = chain["code"]
            frame = self.build_sales(ci, code)
            self.build_targets(code, frame)
            lines = self.build_invoices(ci, code, frame)
            self.build_tiers(code, lines)
            frame, missing = self.plant_sales(code, frame)
            self.write_sales(code, frame, missing)
            self.write_invoices(code, lines)
            visible = frame if missing is None else frame[frame["day"] != missing]
            self.write_deductions(code, self.build_deductions(code, visible, lines))
            self.write_payments(ci, code, lines)
        self.write_config()
        self.check_texts()
        (self.home / "demo_manifest.json").write_text(self.summary.to_json(), encoding="utf-8")
        return self.summary

    def check_texts(self) -> None:
        """Every wording maps to its intended type under the config just written."""
        from ka_pipeline.config import load_config

        config = load_config(self.home / "config")
        for code, texts in TEXTS.items():
            chain = config.chain(code)
            for kind, text in texts.items():
                got = chain.deduction_type(text)
                if got != kind:
                    raise AssertionError(f"{code} text {text!r} maps to {got}, not {kind}")
            if chain.deduction_type(UNCLASSIFIED_TEXT) != "unclassified":
                raise AssertionError(f"{UNCLASSIFIED_TEXT!r} is classified for {code}")


CHAIN_INDEX = {c["code"]: i for i, c in enumerate(CHAINS)}


def generate(
    home: Path,
    *,
    seed: int = 20261122,
    start: date = date(2025, 9, 1),
    end: date = date(2026, 10, 31),
) -> DemoSummary:
    """Write the demo config and feeds into ``home`` (replacing its config/ and feeds/)."""
    return _Demo(Path(home), seed, start, end).run()
