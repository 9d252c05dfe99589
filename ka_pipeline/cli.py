"""The ``ka-pipeline`` command: demo, run, backfill, status, migrate, scorecards, preview.

Exit codes: 0 success; 1 a chain failed, a file was rejected or is missing, a mail was
not delivered, or the warehouse is busy or unreachable; 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from sqlalchemy.exc import OperationalError

from ka_pipeline.errors import KaError
from ka_pipeline.settings import Settings, load_settings


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _print_summary(summary, settings: Settings) -> None:
    from ka_pipeline.warehouse import connect

    stages = ", ".join(f"{k} {v:.1f} s" for k, v in summary.stage_seconds.items())
    print(f"\nbusiness dates {summary.start} .. {summary.end}: {summary.seconds:.1f} s ({stages})")
    print(
        f"{'chain':<6} {'feed':<11} {'files':>6} {'skipped':>8} {'rejected':>9} "
        f"{'rows read':>10} {'loaded':>10} {'quarantined':>12}"
    )
    for chain in summary.chains:
        if chain.error:
            print(f"{chain.chain_code:<6} FAILED: {chain.error}")
            continue
        for feed, c in sorted(chain.feeds.items()):
            print(
                f"{chain.chain_code:<6} {feed:<11} {c.files:>6} {c.skipped:>8} {c.rejected:>9} "
                f"{c.rows_read:>10} {c.rows_loaded:>10} {c.rows_quarantined:>12}"
            )
        if chain.missing:
            shown = ", ".join(chain.missing[:5]) + (" ..." if len(chain.missing) > 5 else "")
            print(f"{'':<6} missing: {len(chain.missing)} ({shown})")
        for problem in chain.rejected:
            print(f"{'':<6} rejected: {problem}")
    feeds = [c for chain in summary.chains for c in chain.feeds.values()]
    print(
        f"{'total':<18} {sum(c.files for c in feeds):>6} {sum(c.skipped for c in feeds):>8} "
        f"{sum(c.rejected for c in feeds):>9} {sum(c.rows_read for c in feeds):>10} "
        f"{sum(c.rows_loaded for c in feeds):>10} {sum(c.rows_quarantined for c in feeds):>12}"
    )
    if summary.model_rows:
        print("models: " + ", ".join(f"{t} {n}" for t, n in summary.model_rows.items()))
    for mail in summary.mails:
        print(f"scorecard {mail}")
    url = settings.warehouse_url
    engine = connect(url)
    print(f"warehouse: {engine.url.render_as_string(hide_password=True)}")
    print(f"outbox:    {settings.outbox_dir}")


def _exit_code(summary) -> int:
    """1 when anything needs a person: a failed chain, a rejected or missing file, an
    undelivered mail; 0 otherwise (a scorecard held for incomplete data is not an error)."""
    undelivered = any(getattr(m, "outcome", "") == "failed" for m in summary.mails)
    problems = any(c.rejected or c.missing for c in summary.chains)
    return 1 if summary.failed or undelivered or problems else 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from ka_pipeline.pipeline import run

    summary = run(
        settings,
        args.date,
        args.date,
        chains=[args.chain] if args.chain else None,
        force=args.force,
        scorecards=args.scorecards,
    )
    _print_summary(summary, settings)
    return _exit_code(summary)


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from ka_pipeline.pipeline import run

    if args.date_from > args.date_to:
        raise KaError(f"--from {args.date_from} is after --to {args.date_to}")
    summary = run(
        settings,
        args.date_from,
        args.date_to,
        chains=[args.chain],
        force=args.force,
        scorecards=args.scorecards,
    )
    _print_summary(summary, settings)
    return _exit_code(summary)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from ka_demo import generate
    from ka_pipeline.pipeline import run

    print(f"generating the demo data set in {settings.home} (seed {args.seed}) ...", flush=True)
    demo = generate(settings.home, seed=args.seed)
    print(demo.describe() if hasattr(demo, "describe") else demo, flush=True)
    if args.no_run:
        return 0
    summary = run(settings, demo.start, demo.end, scorecards="always")
    _print_summary(summary, settings)
    return 1 if summary.failed else 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from ka_pipeline.status import print_status

    print_status(settings, limit=args.limit, chain=args.chain)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from ka_pipeline.warehouse import create_engine, migrate

    applied = migrate(create_engine(settings.warehouse_url))
    print("applied: " + (", ".join(applied) if applied else "nothing, the schema is current"))
    return 0


def _period_and_cards(args: argparse.Namespace, settings: Settings):
    """The last period of ``--period`` ended on or before ``--date`` (the business date,
    as in ``run``), and its scorecards: the owners' (or ``--owner``'s), with the gaps
    of incomplete days stated, plus the managers' roll-ups when no owner is given."""
    from dataclasses import replace

    from ka_pipeline.daystatus import period_gaps
    from ka_pipeline.scorecard import CLI_KINDS, build_rollups, build_scorecards, last_ended
    from ka_pipeline.warehouse import connect

    engine = connect(settings.warehouse_url)
    period = last_ended(CLI_KINDS[args.period], args.date)
    owner = getattr(args, "owner", None)
    team = owner is not None and owner.startswith("team-")
    cards = [] if team else build_scorecards(
        engine, period.kind, period.start, args.date, [owner] if owner else None
    )  # fmt: skip
    if owner is None or team:
        cards += build_rollups(
            engine, period.kind, period.start, args.date, [owner] if team else None
        )
    if owner is not None and not cards:
        raise KaError(f"--owner {owner}: no such owner with a chain (ref_owner, ref_chain)")
    with engine.connect() as conn:
        cards = [
            replace(c, gaps=period_gaps(conn, [x.code for x in c.chains], period.start, period.end))
            for c in cards
        ]
    return engine, period, cards


def cmd_scorecards(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace as with_

    from ka_pipeline.delivery import deliver, parse_smtp_url
    from ka_pipeline.scorecard import render

    if args.mail_from:
        settings = with_(settings, mail_from=args.mail_from)
    if settings.smtp_url and not args.dry_run:
        parse_smtp_url(settings.smtp_url)
    engine, period, cards = _period_and_cards(args, settings)
    print(f"{period.kind} {period.start}..{period.end}, as of {args.date}: {len(cards)} mail(s)")
    failed = 0
    for card in cards:
        mail = render(card)
        if args.dry_run:
            files = ", ".join(f"{n} ({len(b):,} bytes)" for n, b in mail.attachments.items())
            print(f"  {mail.key} -> {mail.to}: {mail.subject}" + (f"; {files}" if files else ""))
            continue
        result = deliver(engine, settings, mail)
        failed += result.outcome == "failed"
        print(f"  {result}")
    return 1 if failed else 0


def cmd_preview(args: argparse.Namespace, settings: Settings) -> int:
    import base64

    from ka_pipeline.delivery import safe_name
    from ka_pipeline.scorecard import render

    _, period, cards = _period_and_cards(args, settings)
    out = args.out or settings.home / "preview"
    out.mkdir(parents=True, exist_ok=True)
    for card in cards:
        mail = render(card)
        page = mail.html
        for cid, png in mail.inline_images.items():
            page = page.replace(
                f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode()
            )
        stem = f"{safe_name(card.owner.code)}_{period.kind}_{period.start}"
        written = [out / f"{stem}.html", out / f"{stem}.txt"]
        written[0].write_text(page, encoding="utf-8")
        written[1].write_text(mail.text, encoding="utf-8")
        for name, data in mail.attachments.items():
            written.append(out / name)
            written[-1].write_bytes(data)
        print(f"{mail.subject}\n  " + "\n  ".join(str(p) for p in written))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ka-pipeline",
        description="Key-account feeds to warehouse KPIs, rebates, deduction checks and "
        "scorecard emails. Settings come from KA_* environment variables (see README).",
    )
    parser.add_argument("--home", type=Path, help="data folder (default: $KA_HOME or ./data)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the demo data set and run it end to end")
    demo.add_argument("--seed", type=int, default=20261122)
    demo.add_argument("--no-run", action="store_true", help="only generate the files")
    demo.set_defaults(func=cmd_demo)

    mail_help = (
        "auto: what is due (complete periods, revisions) when every chain runs;"
        " always: also the month of --date now, stating any gap; never"
    )
    run = sub.add_parser("run", help="run one business date for all chains or one")
    run.add_argument("--date", type=_date, required=True, help="business date YYYY-MM-DD")
    run.add_argument("--chain", help="only this chain code")
    run.add_argument("--force", action="store_true", help="reload files already loaded")
    run.add_argument(
        "--scorecards", choices=("auto", "always", "never"), default="auto", help=mail_help
    )
    run.set_defaults(func=cmd_run)

    backfill = sub.add_parser("backfill", help="re-run a date range for one chain")
    backfill.add_argument("--chain", required=True, help="chain code")
    backfill.add_argument("--from", dest="date_from", type=_date, required=True)
    backfill.add_argument("--to", dest="date_to", type=_date, required=True)
    backfill.add_argument("--force", action="store_true", help="reload unchanged files too")
    backfill.add_argument(
        "--scorecards",
        choices=("never", "always"),
        default="never",
        help="always: release what is due and the month of --to now (default: never)",
    )
    backfill.set_defaults(func=cmd_backfill)

    status = sub.add_parser("status", help="show the last loads and rejects")
    status.add_argument("--limit", type=int, default=20)
    status.add_argument("--chain")
    status.set_defaults(func=cmd_status)

    periods = ("weekly", "monthly")
    cards = sub.add_parser(
        "scorecards",
        help="build and send the scorecards of the last week or month ended by --date",
    )
    cards.add_argument("--period", choices=periods, required=True)
    cards.add_argument("--date", type=_date, required=True, help="business date YYYY-MM-DD")
    cards.add_argument("--owner", help="only this owner (or a roll-up: team-<manager email>)")
    cards.add_argument("--dry-run", action="store_true", help="show what would go; write nothing")
    cards.add_argument("--mail-from", help="the sender (default $KA_MAIL_FROM)")
    cards.set_defaults(func=cmd_scorecards)

    preview = sub.add_parser("preview", help="write a scorecard as HTML, text and XLSX files")
    preview.add_argument("--owner", required=True, help="owner code, or team-<manager email>")
    preview.add_argument("--period", choices=periods, required=True)
    preview.add_argument("--date", type=_date, required=True, help="business date YYYY-MM-DD")
    preview.add_argument("--out", type=Path, help="folder (default <KA_HOME>/preview)")
    preview.set_defaults(func=cmd_preview)

    migrate = sub.add_parser("migrate", help="bring the warehouse schema up to date")
    migrate.set_defaults(func=cmd_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    settings = load_settings(args.home)
    try:
        return args.func(args, settings)
    except KaError as exc:
        print(f"ka-pipeline: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OperationalError as exc:  # the warehouse is unreachable or locked
        detail = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        print(f"ka-pipeline: error: cannot use the warehouse: {detail}", file=sys.stderr)
        if "lock" in detail.lower():
            print(
                "  another ka-pipeline (or Airflow task) is writing to this DuckDB file; "
                "run one at a time, or use PostgreSQL (KA_WAREHOUSE_URL)",
                file=sys.stderr,
            )
        return 1


if __name__ == "__main__":
    sys.exit(main())
