"""Entry point of the `handrail` command.

Every command takes --json and then prints exactly one JSON document on stdout (except
`batch` without -o, which streams JSON Lines); without it, it prints for people. Exit 0 on
success, 2 on bad input with a one-line error on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from handrail.cli import commands
from handrail.cli.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, CliError
from handrail.officialdata.errors import OfficialDataError
from handrail.rules.model import RuleInputError, printable


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit status 2."""

    def error(self, message: str) -> NoReturn:
        text = printable(message)
        self.exit(EXIT_BAD_INPUT, f"handrail: error: {text} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="handrail", description="Rehab therapy billing rules, explained.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where imported CMS/CDC data lives (default $HANDRAIL_DATA_DIR or "
        "~/.local/share/handrail)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_units(sub)
    _add_price(sub)
    _add_edits(sub)
    _add_code(sub)
    _add_visit(sub)
    _add_batch(sub)
    _add_data(sub)
    return parser


def _json_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument("--json", action="store_true", help="print one JSON document")


def _add_units(sub: argparse._SubParsersAction[_Parser]) -> None:
    command = sub.add_parser("units", help="minutes to units (8-minute rule or per code)")
    command.add_argument("items", nargs="+", metavar="CODE=MINUTES")
    command.add_argument("--rule", choices=("cms", "per-code"), default="cms")
    command.add_argument("--date", default=None, help="date of service YYYY-MM-DD (default today)")
    _json_flag(command)
    command.set_defaults(handler=commands.units)


def _add_price(sub: argparse._SubParsersAction[_Parser]) -> None:
    command = sub.add_parser("price", help="Medicare fee schedule amount of a code")
    command.add_argument(
        "code", help="HCPCS/CPT code: a therapy code, or any code of an imported PPRRVU file"
    )
    command.add_argument("--units", type=int, default=1, help="1 to 100 (default 1)")
    command.add_argument("--date", default=None, help="date of service YYYY-MM-DD (default today)")
    where = command.add_mutually_exclusive_group()
    where.add_argument("--locality", help="MAC-LOC as in the GPCI file, e.g. 13202-01")
    where.add_argument("--zip", help="5-digit ZIP code, e.g. 10001")
    command.add_argument("--facility", action="store_true", help="facility rate where priced")
    command.add_argument("--qp", action="store_true", help="qualifying APM participant (2026+)")
    _json_flag(command)
    command.set_defaults(handler=commands.price)


def _add_edits(sub: argparse._SubParsersAction[_Parser]) -> None:
    command = sub.add_parser("edits", help="NCCI pairs and MUEs among codes")
    command.add_argument("codes", nargs="+", metavar="CODE")
    command.add_argument("--date", default=None, help="date of service YYYY-MM-DD (default today)")
    _json_flag(command)
    command.set_defaults(handler=commands.edits)


def _add_code(sub: argparse._SubParsersAction[_Parser]) -> None:
    command = sub.add_parser("code", help="what a code covers, who furnishes it, edits, price")
    command.add_argument("code")
    command.add_argument("--date", default=None, help="date of service YYYY-MM-DD (default today)")
    where = command.add_mutually_exclusive_group()
    where.add_argument("--locality", help="MAC-LOC for the local price, e.g. 01182-18")
    where.add_argument("--zip", help="5-digit ZIP code for the local price")
    _json_flag(command)
    command.set_defaults(handler=commands.code)


def _add_visit(sub: argparse._SubParsersAction[_Parser]) -> None:
    command = sub.add_parser("visit", help="evaluate one visit record (JSON file or -)")
    command.add_argument("file", metavar="FILE|-")
    _json_flag(command)
    command.set_defaults(handler=commands.visit)


def _add_batch(sub: argparse._SubParsersAction[_Parser]) -> None:
    command = sub.add_parser("batch", help="evaluate one visit per line of a JSON Lines file")
    command.add_argument("input", metavar="IN.jsonl")
    command.add_argument("-o", "--output", metavar="OUT.jsonl", default=None)
    _json_flag(command)
    command.set_defaults(handler=commands.batch)


def _add_data(sub: argparse._SubParsersAction[_Parser]) -> None:
    data = sub.add_parser("data", help="import official CMS/CDC files; show what is loaded")
    data_sub = data.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    load = data_sub.add_parser("import", help="import one official file, all or nothing")
    load.add_argument("kind", choices=("pfs", "gpci", "zip5", "ptp", "mue", "icd10cm"))
    load.add_argument("file", type=Path)
    load.add_argument("--release", default=None, help="release label, e.g. 'NCCI PTP 2026Q3'")
    load.add_argument("--effective", default=None, help="first date of service YYYY-MM-DD")
    _json_flag(load)
    load.set_defaults(handler=commands.data_import)
    status = data_sub.add_parser("status", help="list the built-in and imported releases")
    _json_flag(status)
    status.set_defaults(handler=commands.data_status)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir is not None:
        os.environ["HANDRAIL_DATA_DIR"] = str(args.data_dir)
    try:
        status: int = args.handler(args)
    except (CliError, RuleInputError, OfficialDataError) as error:
        print(f"handrail: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("handrail: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a defect: still one line, no traceback, and a distinct status
        name = type(error).__name__
        print(f"handrail: internal error: {name}: {printable(str(error))}", file=sys.stderr)
        return EXIT_INTERNAL
    return status


if __name__ == "__main__":
    sys.exit(main())
