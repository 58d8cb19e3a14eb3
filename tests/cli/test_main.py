import subprocess
import sys

from typer.testing import CliRunner

from biaslens.cli.main import app


def test_every_command_has_help():
    runner = CliRunner()
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    import typer.main

    root = typer.main.get_command(app)
    seen = 0

    def walk(cmd, path):
        nonlocal seen
        res = runner.invoke(app, [*path, "--help"])
        assert res.exit_code == 0, (path, res.output)
        assert "Usage" in res.output
        seen += 1
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])

    walk(root, [])
    assert seen >= 7


def test_user_error_is_one_line_not_a_traceback(tmp_path):
    # A BiasLensError reaches the user as "error: ..." with exit code 2.
    code = (
        "import sys; sys.argv=['biaslens','data','--help']\n"
        "from biaslens.cli import main as m\n"
        "from biaslens.errors import DataError\n"
        "def boom(*a, **k): raise DataError('bad value', path='x.txt', line=3)\n"
        "m.app = boom\n"
        "m.main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "x.txt, line 3: bad value" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unknown_name_names_the_option_that_gave_it():
    from biaslens.cli.main import _with_option

    msg = "unknown attribute 'Mael'; did you mean 'Male'?"
    assert _with_option(msg, ["audit", "steer", "--target", "Mael"]).startswith("--target: ")
    assert _with_option(msg, ["x", "--sensitive", "Mael,skin_type"]).startswith("--sensitive")
    assert _with_option(msg, ["x", "--target=Mael"]).startswith("--target: ")
    assert _with_option(msg, ["x", "Mael"]) == msg                  # not from a flag
    assert _with_option("file not found", ["--target", "Mael"]) == "file not found"
