"""Registers every command on the typer app."""

from __future__ import annotations

import typer

from autoresearch.cli import dashboard, doctor, evaluate, init, inspect, report, research, verify


def register(app: typer.Typer) -> None:
    app.command("run")(research.run)
    app.command("baseline")(research.baseline)
    app.command("eval")(evaluate.eval_command)
    app.command("status")(inspect.status)
    app.command("export")(inspect.export)
    app.command("tasks")(inspect.tasks)
    app.command("doctor")(doctor.doctor)
    app.command("report")(report.report)
    app.command("dashboard")(dashboard.dashboard)
    app.command("init")(init.init)
    app.command("replay")(verify.replay_command)
    app.command("ablate")(verify.ablate_command)
