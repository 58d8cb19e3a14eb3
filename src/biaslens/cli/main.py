"""The ``biaslens`` command: sub-commands are registered by the modules imported below."""

from __future__ import annotations

import importlib
import re
import sys

import typer
from rich.markup import escape
from rich.padding import Padding

from biaslens.cli._common import (
    audit_app,
    data_app,
    err_console,
    experiment_app,
    mitigate_app,
    models_app,
    train_app,
)
from biaslens.errors import BiasLensError

app = typer.Typer(
    help="biaslens: find, measure and reduce bias in generative face models.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.add_typer(audit_app, name="audit")
app.add_typer(train_app, name="train")
app.add_typer(models_app, name="models")
app.add_typer(mitigate_app, name="mitigate")
app.add_typer(experiment_app, name="experiment")

# Each module adds its commands to the sub-apps above when imported.
_COMMAND_MODULES = [
    "biaslens.cli.data_ingest",
    "biaslens.cli.data_stats",
    "biaslens.cli.data_world",
    "biaslens.cli.audit_fairness",
    "biaslens.cli.audit_steer",
    "biaslens.cli.train_cmds",
    "biaslens.cli.models_cmds",
    "biaslens.cli.defaults_cmds",
    "biaslens.cli.audit_generators",
    "biaslens.cli.mitigate_cmds",
    "biaslens.cli.judges_cmds",
]
for _mod in _COMMAND_MODULES:
    importlib.import_module(_mod)

from biaslens.cli.demo import demo_cmd  # noqa: E402
from biaslens.cli.predict import predict_cmd  # noqa: E402

app.command("demo", help="The main job on the embedded default (see README).")(demo_cmd)
app.command("predict", help="Run a classifier on a cache: a predictions file + metrics.")(
    predict_cmd)

from biaslens.cli.app_report import app_command, report_command  # noqa: E402

app.command("app", help="Start the Streamlit app on localhost (zero config).")(app_command)
app.command("report", help="Write a self-contained HTML audit report + report.json.")(
    report_command)


#: Library messages name keyword arguments; on the command line they are flags.
CLI_WORDING: dict[str, str] = {
    "overwrite=True": "--overwrite",
    "skip_bad=True": "--skip-bad",
    "only_present=True": "--only-present",
    "identity_column": "--identity-column",
    "csv=FILE": "--csv FILE",
}

#: Exit status of a command stopped by Ctrl-C (SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def cli_message(message: str) -> str:
    """``message`` with the library's keyword wording replaced by the CLI's flags."""
    for api, flag in CLI_WORDING.items():
        message = message.replace(api, flag)
    return message


#: Names shown of a long list when the error already says "did you mean".
_SHORT_LIST = 8

#: Where a long list of valid names starts in a library message; it goes on its own lines.
_LIST_STARTS = (" Valid names: ", " valid names: ", " Valid: ", " choose one of: ")


def _error(message: str) -> None:
    """One error: the reason and any "did you mean" first, on one line (never broken inside a
    path), then a long list of valid names indented and wrapped on lines of its own."""
    head, tail = message, ""
    for start in _LIST_STARTS:
        if start in message:
            head, tail = message.split(start, 1)
            tail = f"{start.strip()} {tail}"
            break
    if tail and "did you mean" in head:  # the likely fix is given: a short list will do
        label, names = tail.split(": ", 1)
        names, paren, extra = names.partition(" (")
        items = names.split(", ")
        if len(items) > _SHORT_LIST:
            tail = (f"{label} ({len(items)}): {', '.join(items[:_SHORT_LIST])}, … and "
                    f"{len(items) - _SHORT_LIST} more" + (f"{paren}{extra}" if paren else ""))
    # the reason on one line (the terminal wraps it): a path is never broken mid-name
    err_console.print(f"[bold red]error:[/] {escape(head)}", highlight=False, soft_wrap=True)
    if tail:
        err_console.print(Padding(escape(tail), (0, 0, 0, 7), expand=False), highlight=False)


def _with_option(message: str, argv: list[str]) -> str:
    """``--target: unknown attribute 'Mael'; ...``: an unknown name gets the option that
    gave it (the flag before the value on the command line, also inside a comma list)."""
    m = re.match(r"unknown (?:attribute|name|architecture|role)[^']*'([^']+)'", message)
    if not m:
        return message
    name = m.group(1)
    for flag, value in zip(argv, argv[1:]):
        if flag.startswith("--") and name in [v.strip() for v in value.split(",")]:
            return f"{flag}: {message}"
    for item in argv:  # --target=Mael
        flag, eq, value = item.partition("=")
        if eq and flag.startswith("--") and name in [v.strip() for v in value.split(",")]:
            return f"{flag}: {message}"
    return message


def main(args: list[str] | None = None) -> None:
    """Entry point: run the app, turning :class:`BiasLensError` into one clear line (exit 2)
    and Ctrl-C into one line saying nothing half-written was left (exit 130)."""
    argv = list(sys.argv[1:] if args is None else args)
    try:
        app(args=argv)
    except BiasLensError as exc:
        _error(_with_option(cli_message(str(exc)), argv))
        sys.exit(2)
    except SystemExit as exc:
        # typer turns KeyboardInterrupt into a silent exit 130; outputs are written to a
        # temp file or partial folder and renamed into place, so none is left half-written
        if exc.code == EXIT_INTERRUPTED:
            _error("interrupted; the unfinished output was not written (files are renamed "
                   "into place only when complete)")
        raise


if __name__ == "__main__":
    main()
