"""``python -m ixsim.training [--budget ...]``: the calibrate command on its own."""

import typer

from ixsim.cli.calibrate import calibrate_command

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command("calibrate")(calibrate_command)

if __name__ == "__main__":
    app(prog_name="python -m ixsim.training")
