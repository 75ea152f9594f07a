"""``dealer-agent``: enrol, run, sync, status, import, quarantine, verify.

Exit status: 0 done, 1 failed or differences found, 2 usage, 3 syncing stopped by the portal
(revoked or update needed), 4 another agent holds the data directory.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import signal
import sys
from pathlib import Path
from typing import Any

from sync_agent import __version__
from sync_agent.client import Client, SyncError
from sync_agent.coordinator import Coordinator, read_status
from sync_agent.importer import import_file
from sync_agent.records import RecordInvalid, set_dotted
from sync_agent.runner import AgentLocked, DataDirLock, default_data_dir, run_forever
from sync_agent.store import NotEnrolled, NotFound, Store

EXIT_FAILED, EXIT_USAGE, EXIT_STOPPED, EXIT_LOCKED = 1, 2, 3, 4


class CommandError(Exception):
    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # a connection cut inside the headers is handled as a transient error; no traceback
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    try:
        return args.handler(args, data_dir) or 0
    except CommandError as error:
        print(f"dealer-agent: {error}", file=sys.stderr)
        return error.status
    except AgentLocked as error:
        print(f"dealer-agent: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except (NotEnrolled, NotFound, SyncError, RecordInvalid, ValueError) as error:
        print(f"dealer-agent: {error}", file=sys.stderr)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="where the agent keeps its store (default: per-user data directory;"
                             " $DEALER_AGENT_DATA overrides)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="dealer-agent", parents=[common],
                                     description="Offline-first sync agent of the dealer portal.")
    parser.set_defaults(data_dir=None, verbose=False)
    parser.add_argument("--version", action="version", version=f"dealer-agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    enroll = command("enroll", cmd_enroll, "Enrol this agent with a one-time code from the portal.")
    enroll.add_argument("--portal", required=True, help="the portal's address, e.g. https://…")
    enroll.add_argument("--code", required=True, help="the one-time enrolment code")
    enroll.add_argument("--name", default=platform.node(), help="a name the portal shows")
    run = command("run", cmd_run, "Sync in the background until stopped (SIGTERM or Ctrl+C).")
    run.add_argument("--interval", type=float, default=30.0, help="seconds between syncs")
    command("sync", cmd_sync, "Sync once now and report what happened.")
    status = command("status", cmd_status, "Show the sync status.")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    imp = command("import", cmd_import, "Import records from CSV or JSON Lines.")
    imp.add_argument("file", type=Path)
    imp.add_argument("--kind", help="record kind of every row (else a 'kind' column)")
    imp.add_argument("--format", choices=("csv", "jsonl"), help="default: by the file's suffix")
    imp.add_argument("--json", action="store_true", help="per-row results as JSON")
    quarantine = command("quarantine", cmd_quarantine_list, "List, fix, replay or discard "
                         "quarantined records.")
    qcommands = quarantine.add_subparsers(dest="action", metavar="ACTION")
    qlist = qcommands.add_parser("list", parents=[common], help="list quarantined records")
    qlist.set_defaults(handler=cmd_quarantine_list)
    for parent in (qlist, quarantine):
        parent.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        parent.add_argument("--limit", type=int, default=argparse.SUPPRESS)
        parent.add_argument("--offset", type=int, default=argparse.SUPPRESS)
    quarantine.set_defaults(json=False, limit=50, offset=0)
    for name, handler, text in (("replay", cmd_replay, "send a quarantined record again"),
                                ("discard", cmd_discard, "drop a quarantined record for good")):
        for group in (qcommands, commands):
            sub = group.add_parser(name, parents=[common], help=text, description=text)
            sub.set_defaults(handler=handler)
            sub.add_argument("id", type=int, help="the number shown by `quarantine list`")
    fix = qcommands.add_parser("fix", parents=[common], help="correct fields and send again")
    fix.set_defaults(handler=cmd_fix)
    fix.add_argument("id", type=int)
    fix.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                     help="e.g. --set vehicle.vin=LSGPC52U6AF102554 (repeatable)")
    command("verify", cmd_verify, "Compare what the portal holds for this agent with the local "
            "store; exit status 1 on any difference.")
    window = command("window", cmd_window, "Open the agent's window: status, entry, import, "
                     "quarantine, follow-ups and orders (needs the `desktop` extra).")
    window.add_argument("--interval", type=float, default=30.0, help="seconds between syncs")
    backup = command("backup", cmd_backup, "Write a consistent copy of the local store to FILE "
                     "(the agent may keep running).")
    backup.add_argument("file", type=Path)
    restore = command("restore", cmd_restore, "Replace the local store by the backup FILE (stop "
                      "the agent first); the next sync starts a new epoch.")
    restore.add_argument("file", type=Path)
    ui = command("ui", cmd_ui, "Serve the window's pages on 127.0.0.1 for a browser (no window).")
    ui.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    ui.add_argument("--interval", type=float, default=30.0, help="seconds between syncs")
    ui.add_argument("--no-sync", action="store_true", help="only show and edit, never sync")
    return parser


# -- commands --------------------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace, data_dir: Path) -> int:
    from sync_agent.backup import BackupError, backup_store

    try:
        backup_store(data_dir, args.file)
    except BackupError as error:
        raise CommandError(str(error)) from error
    print(f"Backup of {data_dir} written to {args.file}.")
    return 0


def cmd_restore(args: argparse.Namespace, data_dir: Path) -> int:
    from sync_agent.backup import BackupError, restore_store

    with DataDirLock(data_dir):
        try:
            restore_store(data_dir, args.file)
        except BackupError as error:
            raise CommandError(str(error)) from error
    print(f"Store in {data_dir} restored from {args.file}; the next sync starts a new epoch.")
    return 0


def cmd_enroll(args: argparse.Namespace, data_dir: Path) -> int:
    client = Client(args.portal)
    try:
        answer = client.enroll(args.code, agent_name=args.name)
    finally:
        client.close()
    with DataDirLock(data_dir), Store.open(data_dir) as store:
        store.enroll(portal_url=args.portal, agent_id=str(answer.agent_id), token=answer.token,
                     dealer_code=answer.dealer_code, epoch=answer.epoch)
    print(f"Enrolled as agent {answer.agent_id} of dealer {answer.dealer_code} "
          f"with {args.portal}. Data directory: {data_dir}")
    return 0


def cmd_run(args: argparse.Namespace, data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        store.require_identity()
    reason = run_forever(data_dir, interval=args.interval)
    if reason:
        raise CommandError(f"Syncing stopped: {reason}", EXIT_STOPPED)
    return 0


def cmd_sync(args: argparse.Namespace, data_dir: Path) -> int:
    with DataDirLock(data_dir), Store.open(data_dir) as store:
        store.require_identity()
        coordinator = Coordinator(store)
        try:
            report = coordinator.sync(force=True)
        finally:
            coordinator.close()
        if not report.ok:
            status = EXIT_STOPPED if coordinator.stopped else EXIT_FAILED
            raise CommandError(f"Sync failed: {report.error}", status)
        print(f"Synced: {report.acknowledged} acknowledged, {report.rejected} rejected "
              f"(see `dealer-agent quarantine list`), {report.pulled} changes pulled; "
              f"{store.pending_count()} still pending.")
    return 0


def cmd_status(args: argparse.Namespace, data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        status = read_status(store)
    if args.json:
        print(json.dumps({**status.as_dict(), "data_dir": str(data_dir)}, indent=2))
        return 0
    if not status.enrolled:
        print("Not enrolled: run `dealer-agent enroll --portal URL --code CODE`.")
        return 0
    age = status.oldest_pending_age_s
    lines = [
        f"Portal:      {status.portal} (dealer {status.dealer_code}, agent {status.agent_id}, "
        f"epoch {status.epoch})",
        f"State:       {status.state}" + (f" — {status.stopped_reason}"
                                          if status.stopped_reason else ""),
        f"Pending:     {status.pending_count}"
        + (f" (oldest {_duration(age)} old)" if age is not None else ""),
        f"Quarantine:  {status.quarantine_count}",
        f"Last sync:   {status.last_success or 'never'}",
    ]
    if status.last_error:
        lines.append(f"Last error:  {status.last_error} ({status.last_error_at})")
    print("\n".join(lines))
    return 0


def cmd_import(args: argparse.Namespace, data_dir: Path) -> int:
    if not args.file.is_file():
        raise CommandError(f"No such file: {args.file}", EXIT_USAGE)
    with Store.open(data_dir) as store:
        report = import_file(store, args.file, kind=args.kind, fmt=args.format)
    if args.json:
        print(json.dumps([_row_json(r) for r in report.rows], ensure_ascii=False, indent=1))
    else:
        for row in report.quarantined:
            reasons = "; ".join(f"{p.field}: {p.message}" if p.field else p.message
                                for p in row.problems)
            print(f"line {row.line}: quarantined as #{row.quarantine_id}: {reasons}")
        counts = report.counts()
        print("Imported: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return 0


def cmd_quarantine_list(args: argparse.Namespace, data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        entries, total = store.quarantine_list(args.limit, args.offset), store.quarantine_count()
    if args.json:
        print(json.dumps([e.__dict__ for e in entries], ensure_ascii=False, indent=1))
        return 0
    if not total:
        print("The quarantine is empty.")
    for e in entries:
        what = f"{e.kind or '?'} {e.record_id or ''} v{e.version or '-'}".strip()
        print(f"#{e.id}  {what}  [{e.source}: {e.code}{' at ' + e.field if e.field else ''}] "
              f"{e.message}")
    if total > args.offset + len(entries):
        print(f"… {total} in all; use --offset {args.offset + len(entries)} for more.")
    return 0


def cmd_replay(args: argparse.Namespace, data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        result = store.quarantine_replay(args.id)
    print(f"Queued {result.kind} {result.record_id} (version {result.version}) again; it is sent "
          "on the next sync.")
    return 0


def cmd_fix(args: argparse.Namespace, data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        entry = store.quarantine_get(args.id)
        fields = dict(entry.payload)
        for assignment in args.set:
            name, sep, value = assignment.partition("=")
            if not sep:
                raise CommandError(f"--set needs FIELD=VALUE, not {assignment!r}", EXIT_USAGE)
            set_dotted(fields, name.strip(), value)
        result = store.quarantine_fix(args.id, fields)
    print(f"Fixed: {result.kind} {result.record_id} is queued as version {result.version}.")
    return 0


def cmd_discard(args: argparse.Namespace, data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        store.quarantine_discard(args.id)
    print(f"Discarded quarantined record #{args.id}.")
    return 0


def cmd_verify(args: argparse.Namespace, data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        identity = store.require_identity()
        local = store.acked_summary()
    client = Client(identity.portal_url, identity.token)
    try:
        remote = client.verify()
    finally:
        client.close()
    differing = compare_summaries(local, remote)
    for kind in sorted(set(local) | set(remote)):
        mine, theirs = local.get(kind, {}), remote.get(kind, {})
        mark = "DIFFERENT" if kind in differing else "ok"
        print(f"{kind:<14} local {mine.get('count', 0):>7}  portal {theirs.get('count', 0):>7}"
              f"  {mark}")
    if differing:
        print(f"Differences in: {', '.join(differing)}. Run `dealer-agent sync`, then verify "
              "again; if it persists, tell your portal administrator.", file=sys.stderr)
        return EXIT_FAILED
    print("The portal holds exactly what this agent has synced.")
    return 0


def cmd_window(args: argparse.Namespace, data_dir: Path) -> int:
    try:
        import webview  # noqa: F401 - the `desktop` extra; say so clearly if it is missing
    except ImportError as error:
        raise CommandError(f"The window needs the desktop extra: pip install "
                           f"'dealer-portal[desktop]' ({error}). `dealer-agent ui` serves the "
                           "same pages to a browser.", EXIT_USAGE) from None
    from sync_agent.ui.window import open_window

    print(open_window(data_dir, interval=args.interval))
    return 0


def cmd_ui(args: argparse.Namespace, data_dir: Path) -> int:
    from sync_agent.ui import create_app
    from sync_agent.ui.context import LocalAgent
    from sync_agent.ui.server import LocalServer
    from sync_agent.ui.window import closing_message

    agent = LocalAgent(data_dir, sync=not args.no_sync, interval=args.interval).start()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server = LocalServer(create_app(agent), port=args.port)
        print(f"Dealer agent UI at {server.url} (Ctrl+C to stop)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        mode = agent.mode
        agent.close()
    print(closing_message(mode).replace("Window closed", "UI stopped"))
    return 0


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt  # stop `ui` on SIGTERM as on Ctrl+C: release the lock, say so


# -- helpers ---------------------------------------------------------------------------------


def compare_summaries(local: dict[str, dict[str, Any]],
                      remote: dict[str, dict[str, Any]]) -> list[str]:
    """Kinds whose count or checksum differ (a kind with zero records may be absent)."""
    differing = []
    for kind in sorted(set(local) | set(remote)):
        mine, theirs = local.get(kind), remote.get(kind)
        if not (mine or {}).get("count") and not (theirs or {}).get("count"):
            continue
        if mine is None or theirs is None or int(mine["count"]) != int(theirs["count"]) \
                or mine["checksum"] != theirs["checksum"]:
            differing.append(kind)
    return differing


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _row_json(row) -> dict[str, Any]:
    return {"line": row.line, "status": row.status, "kind": row.kind, "record_id": row.record_id,
            "quarantine_id": row.quarantine_id, "problems": [p.as_dict() for p in row.problems]}
