"""Annotation-loop commands (doccano, select, agreement, adjudicate), registered on `readout`."""

import typer

from .cli import app, user_errors  # noqa: F401

doccano_app = typer.Typer(no_args_is_help=True, help="Work with a doccano server.")
app.add_typer(doccano_app, name="doccano")
