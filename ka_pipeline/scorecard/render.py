"""Rendering: a :class:`Scorecard` -> a :class:`~ka_pipeline.delivery.RenderedMail`.

Subject, HTML (mail-client safe: tables and inline CSS, no external resources, readable
from 375 px up), plain text carrying the same facts, one inline PNG trend per chain and
the XLSX attachment, all in the owner's language. Deterministic for a given card.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.bccache

from ka_pipeline.delivery import RenderedMail
from ka_pipeline.scorecard import xlsx
from ka_pipeline.scorecard.catalogue import (
    DASH,
    GREEN,
    GREY,
    RED,
    TEMPLATES,
    T,
    direction,
    fmt_amount,
    fmt_int,
    fmt_money,
    fmt_pct,
    mark,
)
from ka_pipeline.scorecard.charts import text_sparkline, trend_png
from ka_pipeline.scorecard.model import ZERO, Scorecard, figures

# mart null_reasons names a KPI by its column; the catalogue by its label key
KPI_LABELS = {
    "distribution_rate": "distribution",
    "sell_through_rate": "sell_through",
    "lfl_growth": "lfl",
    "price_compliance": "price_compliance",
    "oos_rate": "oos_rate",
    "lost_sales_amount": "lost_sales",
    "trade_spend_rate": "trade_spend_rate",
    "yoy_growth": "yoy",
    "target_achievement": "achievement",
    "sales_per_store": "sales_per_store",
    "sales_per_m2": "sales_per_m2",
    "velocity": "velocity",
}
DEDUCTIONS_SHOWN = 10  # per chain in the mail body; the attachment has them all
ROWS_SHOWN = 5  # other lists, per chain (roll-up: per team)


@dataclass(frozen=True)
class Action:
    """One line of the first screen: what needs action now."""

    text: str
    urgent: bool = False


def actions(card: Scorecard, t: T) -> list[Action]:
    """The first screen, most urgent first: only what the reader can act on."""
    out: list[Action] = []
    deds = card.deductions
    if deds:
        first = min(deds, key=lambda d: d.dispute_deadline)
        total = sum((d.disputable_amount for d in deds), ZERO)
        out.append(Action(t(
            "act_dispute_one" if len(deds) == 1 else "act_dispute", n=len(deds),
            amount=fmt_money(total), date=t.day(first.dispute_deadline),
            left=t.days_left(first.days_left)), urgent=first.days_left <= 7))  # fmt: skip
    review = card.all_of("review")
    if review:
        out.append(Action(t(
            "act_review_one" if len(review) == 1 else "act_review", n=len(review),
            amount=fmt_money(sum((r.amount for r in review), ZERO)),
            age=max(r.age_days for r in review))))  # fmt: skip
    overdue = card.all_of("overdue")
    if overdue:
        over90 = sum((o.open_balance for o in overdue if o.days_overdue > 90), ZERO)
        out.append(Action(t(
            "act_overdue_one" if len(overdue) == 1 else "act_overdue", n=len(overdue),
            amount=fmt_money(sum((o.open_balance for o in overdue), ZERO)),
            over90=fmt_money(over90)), urgent=over90 > 0))  # fmt: skip
    for c in card.chains:
        r = c.rebate
        if r is None:
            continue
        if r.rebate_balance < 0:
            out.append(Action(t("act_rebate_over", chain=t.chain_name(c.chain),
                                amount=fmt_money(-r.rebate_balance)), urgent=True))  # fmt: skip
        # a next tier the projection does not reach: worth a push
        if r.next_tier_no is not None and (r.projected_gap or 0) > 0:
            out.append(Action(t("act_rebate_gap", chain=t.chain_name(c.chain),
                gap=fmt_money(r.gap_to_next_tier), tier=r.next_tier_no,
                projected=fmt_money(r.projected_base))))  # fmt: skip
    for attr, key, amount in (
        ("below_floor", "act_below_floor", "gap_amount"),
        ("out_of_stock", "act_oos", "lost_sales_amount"),
        ("phantom", "act_phantom", None),
        ("diversion", "act_diversion", None),
    ):
        rows = card.all_of(attr)
        if rows:
            money = sum((getattr(x, amount) or ZERO for x in rows), ZERO) if amount else None
            out.append(Action(t(key + "_one" if len(rows) == 1 else key, n=len(rows),
                                amount=fmt_money(money))))  # fmt: skip
    gap_days = sum(len(c.day_gaps) for c in card.chains)
    if gap_days or any(c.feed_problems for c in card.chains):
        quarantined = sum(1 for c in card.chains for p in c.feed_problems if p.status == "loaded")
        out.append(Action(t("act_feeds", n=gap_days, q=quarantined)))
    return out


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates (compiling the two scorecard templates
    cost about 0.3 s of every process that renders one); a cache that cannot be written
    is only slower, never an error."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


# the options that shape a template's compiled code (autoescape: by file extension)
_ENV_OPTIONS = {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True}
_AUTOESCAPED = ("html.j2",)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The cache in Jinja's per-user folder (created private, refused if not), its files
    named by these options and the Jinja version: a template is keyed by its path and
    source only, so another environment's compiled code must not be reused."""
    options = (sorted(_ENV_OPTIONS.items()), _AUTOESCAPED, jinja2.__version__)
    tag = hashlib.sha256(repr(options).encode())
    try:
        return _BytecodeCache(pattern=f"ka_scorecard_{tag.hexdigest()[:16]}_%s.cache")
    except (OSError, RuntimeError):  # no safe folder: compile every time
        return None


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=_AUTOESCAPED),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(),
        **_ENV_OPTIONS,
    )
    env.filters.update(
        money=fmt_money,
        amount=fmt_amount,
        int=fmt_int,
        pct=fmt_pct,
        spct=lambda v: fmt_pct(v, signed=True),
        mark=mark,
        direction=direction,
    )
    return env


def _safe(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", code)


def _cid(chain_code: str, card: Scorecard) -> str:
    return f"trend-{_safe(chain_code)}-{card.period.kind}{card.period.start:%Y%m%d}@ka-pipeline"


def attachment_name(card: Scorecard) -> str:
    p = card.period
    stamp = (
        f"{p.start:%Y-%m}"
        if p.kind == "month"
        else f"{p.start.isocalendar()[0]}-W{p.start.isocalendar()[1]:02d}"
    )
    return f"scorecard-details_{_safe(card.owner.code)}_{stamp}.xlsx"


def subject(card: Scorecard, t: T) -> str:
    if card.rollup:
        key = "subject_rollup" if card.period.kind == "month" else "subject_rollup_week"
        text = t(key, period=t.period(card.period), n=len(card.chains))
    else:
        names = t("name_separator").join(t.chain_name(c.chain) for c in card.chains)
        key = "subject" if card.period.kind == "month" else "subject_week"
        text = t(key, period=t.period(card.period), chains=names)
    return t("revised_prefix") + text if card.version > 1 else text


def _gap_lines(gaps: list, t: T) -> list[str]:
    """``10-29–10-30 (files missing)``: the gap days grouped by their state."""
    by_state: dict[str, list] = {}
    for day, state in gaps:
        by_state.setdefault(state, []).append(day)
    return [f"{t.dates(days)}{t('gap_' + state)}" for state, days in by_state.items()]


def change_value(kind: str, value: str | None) -> str:
    """A figure of a revision's change list, formatted like the rest of the mail."""
    if value is None:
        return DASH
    if kind == "money":
        return fmt_money(Decimal(value))
    if kind == "pct":
        return fmt_pct(Decimal(value))
    if kind == "int":
        return fmt_int(int(value))
    if kind == "gaps":  # "2026-10-30 incomplete; ...": the days are what the reader needs
        return ", ".join(part.split(" ")[0] for part in value.split("; "))
    return value


def detail_sheets(card: Scorecard, t: T) -> list[xlsx.Sheet]:
    """The attachment's sheets, one per detail list, in the reader's language."""
    C = xlsx.Column
    names = {c.code: t.chain_name(c.chain) for c in card.chains}
    chain = [C(t("x_chain"), "code", lambda r: r.chain_code, 9),
             C(t("x_chain_name"), "text", lambda r: names[r.chain_code], 12)]  # fmt: skip
    # the store x item and its run of days: the leading columns of both store lists
    store_item_run = [
        C(t("x_store_code"), "code", lambda r: r.store_code, 10),
        C(t("x_store_name"), "text", lambda r: r.store_name),
        C(t("x_barcode"), "code", lambda r: r.barcode),
        C(t("x_days"), "int", lambda r: r.days),
        C(t("x_first_date"), "date", lambda r: r.first_date),
        C(t("x_last_date"), "date", lambda r: r.last_date),
    ]  # fmt: skip
    yes, no = t("word_yes"), t("word_no")
    return [
        xlsx.Sheet(t("sheet_deductions"), chain + [
            C(t("x_statement_no"), "code", lambda d: d.statement_no),
            C(t("x_deduction_no"), "code", lambda d: d.deduction_no),
            C(t("x_deduction_date"), "date", lambda d: d.deduction_date),
            C(t("x_deduction_text"), "text", lambda d: d.deduction_text),
            C(t("x_deduction_type"), "code", lambda d: d.deduction_type),
            C(t("x_reference"), "code", lambda d: d.reference),
            C(t("x_store_code"), "code", lambda d: d.store_code, 10),
            C(t("x_barcode"), "code", lambda d: d.barcode),
            C(t("x_amount"), "money", lambda d: d.amount),
            C(t("x_expected_amount"), "money", lambda d: d.expected_amount),
            C(t("x_disputable_amount"), "money", lambda d: d.disputable_amount),
            C(t("x_status"), "text", lambda d: t.status(d.status), 18),
            C(t("x_evidence"), "text", lambda d: t.evidence(d.evidence), 60),
            C(t("x_dispute_deadline"), "date", lambda d: d.dispute_deadline),
            C(t("x_days_left"), "int", lambda d: d.days_left),
        ], card.deductions),
        xlsx.Sheet(t("sheet_review"), chain + [
            C(t("x_statement_no"), "code", lambda r: r.statement_no),
            C(t("x_deduction_no"), "code", lambda r: r.deduction_no),
            C(t("x_statement_date"), "date", lambda r: r.statement_date),
            C(t("x_deduction_text"), "text", lambda r: r.deduction_text),
            C(t("x_amount"), "money", lambda r: r.amount),
            C(t("x_store_code"), "code", lambda r: r.store_code, 10),
            C(t("x_age_days"), "int", lambda r: r.age_days),
            C(t("x_dispute_deadline"), "date", lambda r: r.dispute_deadline),
            C(t("x_days_left"), "int", lambda r: r.days_left),
        ], card.all_of("review")),
        xlsx.Sheet(t("sheet_overdue"), chain + [
            C(t("x_invoice_no"), "code", lambda o: o.invoice_no),
            C(t("x_invoice_date"), "date", lambda o: o.invoice_date),
            C(t("x_due_date"), "date", lambda o: o.due_date),
            C(t("x_gross_amount"), "money", lambda o: o.gross_amount),
            C(t("x_open_balance"), "money", lambda o: o.open_balance),
            C(t("x_days_overdue"), "int", lambda o: o.days_overdue),
            C(t("x_aging"), "code", lambda o: o.bucket, 9),
        ], card.all_of("overdue")),
        xlsx.Sheet(t("sheet_below_floor"), chain + store_item_run + [
            C(t("x_units"), "int", lambda b: b.units),
            C(t("x_min_price"), "money", lambda b: b.min_unit_price),
            C(t("x_required_price"), "money", lambda b: b.required_price),
            C(t("x_gap_amount"), "money", lambda b: b.gap_amount),
            C(t("x_in_promo"), "text", lambda b: yes if b.in_promo else no, 8),
        ], card.all_of("below_floor")),
        xlsx.Sheet(t("sheet_oos"), chain + store_item_run + [
            C(t("x_lost_units"), "int", lambda o: o.lost_units),
            C(t("x_lost_sales"), "money", lambda o: o.lost_sales_amount),
        ], card.all_of("out_of_stock")),
    ]  # fmt: skip


def render(card: Scorecard) -> RenderedMail:
    """The scorecard as a mail: subject, HTML, plain text, inline charts, XLSX."""
    t = T(card.owner.locale)
    images: dict[str, bytes] = {}
    cids: dict[str, str] = {}
    if not card.rollup:
        for chain in card.chains:
            cid = _cid(chain.code, card)
            images[cid] = trend_png([v for _, v in chain.trend])
            cids[chain.code] = cid
    sheets = detail_sheets(card, t)
    has_details = any(s.rows for s in sheets)
    name = attachment_name(card)
    month = card.period.kind == "month"
    context: dict[str, Any] = {
        "card": card,
        "t": t,
        "lang": t.lang,
        "subject": subject(card, t),
        "period_label": t.period(card.period),
        "title": t("title_rollup") if card.rollup else t("title" if month else "title_week"),
        "chain_names": t("name_separator").join(t.chain_name(c.chain) for c in card.chains),
        "cids": cids,
        "attachment": name if has_details else None,
        "actions": actions(card, t),
        "sparkline": lambda trend: text_sparkline([v for _, v in trend]),
        "tick": lambda d: t.period_tick(card.period.kind, d),
        "trend_title": t("trend" if month else "trend_week"),
        "no_data_text": t("no_data" if month else "no_data_week", period=t.period(card.period)),
        "dash": DASH,
        "green": GREEN,
        "red": RED,
        "grey": GREY,
        "shown": DEDUCTIONS_SHOWN,
        "rows_shown": ROWS_SHOWN,
        "change_value": change_value,
        "gap_lines": lambda gaps: _gap_lines(gaps, t),
        "zero": ZERO,
        "kpi_label": lambda kpi: KPI_LABELS.get(kpi, kpi),
    }
    env = _env()
    html = env.get_template("scorecard.html.j2").render(context)
    text = env.get_template("scorecard.txt.j2").render(context)
    return RenderedMail(
        key=card.message_key,
        owner_code=card.owner.code,
        to=card.owner.email,
        # the manager gets the team roll-up instead of a copy of every owner's mail
        cc=None,
        locale=card.owner.locale,
        period_kind=card.period.kind,
        period_start=card.period.start,
        period_end=card.period.end,
        version=card.version,
        subject=context["subject"],
        html=html,
        text=text,
        inline_images=images,
        attachments={name: xlsx.workbook(sheets)} if has_details else {},
        figures=figures(card),
        changes=json.dumps([vars(c) for c in card.changes]) if card.changes else None,
        gaps=json.dumps({k: [(d.isoformat(), s) for d, s in v] for k, v in card.gaps.items()})
        if card.gaps
        else None,
    )
