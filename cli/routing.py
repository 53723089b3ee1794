"""``intygsgateway routing ...``: load, inspect, change, explain and check the routing catalogue.

Every change (import, add, remove, add-access, remove-access, rollback) is planned first (diff,
validation report, shrink guard; see ``routing.changes``), then written as one new catalogue version
in one transaction, logged with who (``--by`` or the OS user), when and the counts. ``--dry-run``
prints the plan and writes nothing. Every running gateway process picks the new version up within
``routing_check_seconds``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog

from cli.options import add_settings_options, settings_from
from cli.routing_output import print_plan, print_rows
from cli.settings import Settings
from contracts.ns import STATUS_UPDATE_V3
from domain.values import swedish_date
from outbound import ROUTING_CONTRACTS
from routing import (
    AccessRight,
    Route,
)
from routing.catalogue import DEFAULT_PROFILE, normalise
from routing.changes import ChangePlan, plan_change
from routing.content import CatalogueContent
from routing.explain import explain
from routing.formats import (
    FormatError,
    Parsed,
    dump_json,
    parse_csv,
    parse_json,
    rows_as_csv,
)
from store import routing as store
from store.migrate import open_existing
from store.session import UnitOfWork, make_session_factory
from usecases.routing_check import check_routes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("routing", help="the routing catalogue (TAK-style routes and access rights)",
                                   description="Load, inspect, change, explain and check the routing catalogue. "
                                   "See docs/routing.md.")
    commands = parser.add_subparsers(dest="routing_command", required=True, metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], int], help_text: str, changes: bool = False
                ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
        add_settings_options(sub)
        if changes:
            sub.add_argument("--dry-run", action="store_true", help="print the diff and report, change nothing")
            sub.add_argument("--by", metavar="WHO", help="who makes the change, for the log (default: the OS user)")
            sub.add_argument("--comment", help="a note kept with the new version")
        sub.set_defaults(run=run)
        return sub

    imp = command("import", run_import, "replace (or --merge into) the catalogue from a TAK export, a TAK "
                  "snapshot, or our JSON/CSV (docs/routing-format.md); all or nothing", changes=True)
    imp.add_argument("file", metavar="FILE", help="the file; .csv is read as our CSV, anything else as JSON")
    imp.add_argument("--merge", action="store_true", help="replace only the contract+address (and consumer) "
                     "groups the file names; keep everything else")
    imp.add_argument("--force", action="store_true", help="allow emptying the catalogue or shrinking it by more "
                     "than routing_max_shrink")
    imp.add_argument("--strict", action="store_true", help="refuse the import on any warning (rows given twice, "
                     "overlapping validity, expired rows...) instead of loading it")
    imp.add_argument("--show", type=int, default=20, metavar="N", help="list at most N rows per section (0 = all)")
    imp.add_argument("--on", type=date.fromisoformat, metavar="DATE", help="judge validity (expired rows, the days "
                     "of VP006) as of DATE (default today)")

    exp = command("export", run_export, "write the catalogue (or a kept version) in our JSON or CSV format")
    exp.add_argument("file", metavar="FILE", nargs="?", help="output file (default: standard output)")
    exp.add_argument("--csv", action="store_true", help="write CSV instead of JSON")
    exp.add_argument("--version", type=int, help="a kept version instead of the current catalogue")

    lst = command("list", run_list, "list routes (or access rights with --access), optionally filtered")
    _filters(lst)
    lst.add_argument("--access", action="store_true", help="list access rights instead of routes")
    lst.add_argument("--json", action="store_true", help="print our JSON format")

    command("versions", run_versions, "the change log: version, when, who, what, counts, whether kept")

    add = command("add", run_add, "add one route", changes=True)
    _route_options(add, required=True)
    rem = command("remove", run_remove, "remove the routes matching the options", changes=True)
    _route_options(rem, required=False)
    add_access = command("add-access", run_add_access, "add one access right (consumer may call contract for "
                         "logical address)", changes=True)
    _access_options(add_access)
    rem_access = command("remove-access", run_remove_access, "remove the access rights matching the options",
                         changes=True)
    _access_options(rem_access)

    rollback = command("rollback", run_rollback, "make a kept version the current catalogue again (as a new "
                       "version)", changes=True)
    rollback.add_argument("version", type=int, metavar="VERSION")

    explain = command("explain", run_explain, "resolve a contract and logical address as the gateway would: the "
                      "first line is the URL only when the route (and with --consumer the access right) resolves, "
                      "else the VP code; then the traces in the order tried; exit status = the VP code's number "
                      "(4 = VP004 ...) when there is no single valid route or no access right")
    explain.add_argument("--contract", required=True, metavar="NS")
    explain.add_argument("--address", required=True, metavar="HSA", help="the logical address")
    explain.add_argument("--consumer", metavar="HSA", help="also check this consumer's access right")
    explain.add_argument("--on", type=date.fromisoformat, metavar="DATE", help="resolve as of DATE (default today)")

    check = command("check", run_check, "report integrated units without a usable status-update route and rows "
                    "expiring soon; exit 1 when anything is found")
    check.add_argument("--days", type=int, default=30, help="expiry horizon in days (default 30)")
    check.add_argument("--on", type=date.fromisoformat, metavar="DATE", help="check as of DATE (default today)")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contract", metavar="NS")
    parser.add_argument("--address", metavar="HSA")
    parser.add_argument("--consumer", metavar="HSA")


def _route_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--contract", required=True, metavar="NS", help="service contract namespace")
    parser.add_argument("--address", required=True, metavar="HSA", help="logical address (HSA-id, SE or *)")
    parser.add_argument("--url", required=required, metavar="URL", help="endpoint URL, kept byte-exact")
    parser.add_argument("--producer", metavar="HSA", help="producer component's HSA-id")
    parser.add_argument("--profile", default=DEFAULT_PROFILE if required else None, help="RIV-TA profile")
    parser.add_argument("--from", dest="valid_from", type=date.fromisoformat, metavar="DATE")
    parser.add_argument("--to", dest="valid_to", type=date.fromisoformat, metavar="DATE")
    if required:
        parser.add_argument("--connect-timeout", type=float, metavar="S", help="connect timeout override (s)")
        parser.add_argument("--read-timeout", type=float, metavar="S", help="read timeout override (s)")


def _access_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--consumer", required=True, metavar="HSA", help="the consumer component's HSA-id")
    parser.add_argument("--contract", required=True, metavar="NS")
    parser.add_argument("--address", required=True, metavar="HSA", help="logical address (HSA-id, SE or *)")
    parser.add_argument("--from", dest="valid_from", type=date.fromisoformat, metavar="DATE")
    parser.add_argument("--to", dest="valid_to", type=date.fromisoformat, metavar="DATE")


# -- plumbing ---------------------------------------------------------------------------------------

@contextmanager
def _database(settings: Settings) -> Iterator[UnitOfWork]:
    engine = open_existing(settings.database_url)
    try:
        yield UnitOfWork(make_session_factory(engine))
    finally:
        engine.dispose()


@contextmanager
def _session(settings: Settings) -> Iterator[Any]:
    with _database(settings) as uow, uow() as session:
        yield session


def _today(args: argparse.Namespace) -> date:
    """The calendar date rows are judged by: TAK dates are Swedish calendar dates, whatever the
    host's time zone (as the gateway and the worker judge them)."""
    return getattr(args, "on", None) or swedish_date(datetime.now(UTC))


def _apply(args: argparse.Namespace, settings: Settings,
           change: Callable[[CatalogueContent], CatalogueContent], *, action: str,
           max_shrink: float | None, read: Parsed | None = None) -> int:
    """Plan ``change`` against the current catalogue, print it, and publish it unless refused or dry."""
    with _session(settings) as session:
        store.lock_catalogue(session)
        before = store.load_content(session)
        plan: ChangePlan = plan_change(
            before, change(before), on=_today(args), max_shrink=max_shrink, force=getattr(args, "force", False),
            strict=getattr(args, "strict", False), read_findings=read.findings if read else (),
            known_contracts=(*before.all_contracts(), *ROUTING_CONTRACTS.values()))
        print_plan(plan, getattr(args, "show", 20), read.format if read else None)
        if not plan.allowed:
            print(f"intygsgateway: refused ({plan.refusal}): {plan.reason}", file=sys.stderr)
            return 1
        if args.dry_run or plan.diff.empty:
            print("dry run: nothing changed" if args.dry_run else "no change: nothing written")
            return 0
        by = args.by or getpass.getuser()
        version = store.publish(session, plan.after, by=by, action=action, now=datetime.now(UTC),
                                keep=settings.routing_keep_versions, changes=plan.diff.counts(),
                                comment=args.comment)
    # Fetched per call: the CLI configures logging per command, and a cached logger would keep the old stream.
    structlog.get_logger("cli.routing").info("routing_catalogue_changed", version=version, action=action, by=by,
                                             routes=len(plan.after.routes), rights=len(plan.after.rights),
                                             **plan.diff.counts())
    print(f"published version {version}: {len(plan.after.routes)} routes, {len(plan.after.rights)} access rights")
    return 0


# -- commands -----------------------------------------------------------------------------------------

def read_source(path: Path) -> Parsed:
    """Parse a catalogue file by its name: ``.csv`` is our CSV, anything else JSON."""
    text = path.read_text(encoding="utf-8-sig")
    return parse_csv(text) if path.suffix.lower() == ".csv" else parse_json(json.loads(text))


def run_import(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        parsed = read_source(Path(args.file))
    except (OSError, ValueError, FormatError) as exc:
        print(f"intygsgateway: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1

    def change(before: CatalogueContent) -> CatalogueContent:
        return before.merged_with(parsed.content) if args.merge else parsed.content

    return _apply(args, settings, change, action="merge" if args.merge else "import",
                  max_shrink=settings.routing_max_shrink, read=parsed)


def run_rollback(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with _session(settings) as session:
        try:
            target = store.content_of(session, args.version)
        except store.VersionNotKept as exc:
            print(f"intygsgateway: {exc}", file=sys.stderr)
            return 1
    args.comment = args.comment or f"rollback to version {args.version}"
    return _apply(args, settings, lambda _before: target, action="rollback", max_shrink=None)


def run_add(args: argparse.Namespace) -> int:
    route = Route(args.contract.strip(), args.address.strip(), args.url, args.producer, args.profile.strip().upper(),
                  args.valid_from or date.min, args.valid_to or date.max, args.connect_timeout, args.read_timeout)
    return _apply(args, settings_from(args), lambda before: replace(before, routes=(*before.routes, route)),
                  action="add", max_shrink=None)


def run_add_access(args: argparse.Namespace) -> int:
    right = AccessRight(args.consumer.strip(), args.contract.strip(), args.address.strip(),
                        args.valid_from or date.min, args.valid_to or date.max)
    return _apply(args, settings_from(args), lambda before: replace(before, rights=(*before.rights, right)),
                  action="add-access", max_shrink=None)


def _matches(row: Route | AccessRight, args: argparse.Namespace) -> bool:
    """Whether ``row`` fits every option given (ids compared normalised, URL byte-exact)."""
    checks: list[tuple[Any, Any]] = [(args.contract, row.contract), (args.address, row.logical_address)]
    if isinstance(row, Route):
        checks += [(getattr(args, "producer", None), row.producer or "")]
        if getattr(args, "url", None) is not None and args.url != row.url:
            return False
        if getattr(args, "profile", None) and args.profile.strip().upper() != row.profile:
            return False
    else:
        checks += [(getattr(args, "consumer", None), row.consumer)]
    if args.valid_from and args.valid_from != row.valid_from or args.valid_to and args.valid_to != row.valid_to:
        return False
    return all(wanted is None or normalise(wanted) == normalise(have) for wanted, have in checks)


def _remove(args: argparse.Namespace, access: bool) -> int:
    settings = settings_from(args)
    with _session(settings) as session:
        before = store.load_content(session)
    routes = [] if access else [r for r in before.routes if _matches(r, args)]
    rights = [r for r in before.rights if _matches(r, args)] if access else []
    if not routes and not rights:
        print("intygsgateway: nothing matches", file=sys.stderr)
        return 1
    return _apply(args, settings, lambda b: b.without(routes, rights),
                  action="remove-access" if access else "remove", max_shrink=None)


def run_remove(args: argparse.Namespace) -> int:
    return _remove(args, access=False)


def run_remove_access(args: argparse.Namespace) -> int:
    return _remove(args, access=True)


def run_export(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with _session(settings) as session:
        try:
            content = store.content_of(session, args.version) if args.version else store.load_content(session)
        except store.VersionNotKept as exc:
            print(f"intygsgateway: {exc}", file=sys.stderr)
            return 1
    text = rows_as_csv(content.routes, content.rights) if args.csv else json.dumps(dump_json(content), indent=2,
                                                                                   ensure_ascii=False) + "\n"
    if args.file:
        Path(args.file).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with _session(settings) as session:
        content = store.load_content(session)
    wanted = _no_dates(args)
    picked = CatalogueContent(
        routes=() if args.access else tuple(r for r in content.routes if _matches(r, wanted)),
        rights=tuple(r for r in content.rights if _matches(r, wanted)) if args.access else ())
    if args.json:
        print(json.dumps(dump_json(picked), indent=2, ensure_ascii=False))
    else:
        print_rows([*picked.routes, *picked.rights])
    return 0


def _no_dates(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "valid_from": None, "valid_to": None})


def run_versions(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with _session(settings) as session:
        for v in store.versions(session):
            counts = " ".join(f"{k}={n}" for k, n in v.changes.items() if n)
            print(f"{v.version}\t{v.created_at:%Y-%m-%d %H:%M:%S}Z\t{v.created_by}\t{v.action}\t"
                  f"routes={v.routes} rights={v.rights}\t{counts or '-'}\t{'kept' if v.kept else 'pruned'}\t"
                  f"{v.comment or ''}".rstrip())
    return 0


def run_explain(args: argparse.Namespace) -> int:
    """Resolve as the gateway would, and say so in an order a script can rely on.

    The first line is the URL only when the call would pass: the route resolves and, with
    ``--consumer``, the access right too; otherwise it is the VP code of the first refusal and its
    meaning, and the exit status is the code's number. Then the traces in the order the platform
    tries them: the route first (``trace:``, and ``route:`` when one was found), then the consumer's
    access right (``access:``), then what explains a refusal (``nearest:``, ``hint:``).
    """
    settings = settings_from(args)
    with _session(settings) as session:
        catalogue = store.load_catalogue(session)
    found = explain(catalogue, args.contract, args.address, args.consumer, _today(args))
    lines = ["trace: " + ",".join(found.trace)]
    if found.route is not None:
        lines.append("route: " + found.route)
    if found.access is not None:
        verdict = "allowed" if found.access.allowed else "refused"
        lines.append(f"access: {found.access.consumer} {verdict}, tried " + ",".join(found.access.trace))
    lines += [f"{label}: {value}" for label, value in found.explanations]
    print(found.url if found.refusal is None else f"{found.refusal.code} {found.refusal.meaning}")
    for line in lines:
        print(line)
    print(f"catalogue version {found.version}, as of {found.on}")
    return 0 if found.refusal is None else int(found.refusal.code[2:])


def run_check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with _database(settings) as uow:
        with uow() as session:
            catalogue = store.load_catalogue(session)
        units, findings = check_routes(uow, catalogue, STATUS_UPDATE_V3, _today(args), args.days,
                                       settings.allow_plain_http_routes)
    if args.json:
        print(json.dumps([{"kind": f.kind.value, "subject": f.subject, "code": f.code, "detail": f.detail}
                          for f in findings], indent=2, ensure_ascii=False))
    else:
        for f in findings:
            print(f"{f.kind.value}\t{f.subject}\t{f.detail}")
        print(f"{len(units)} integrated units checked, {len(findings)} finding(s), catalogue version "
              f"{catalogue.version}")
    return 1 if findings else 0
