"""`famchain ipfs` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="ipfs commands.", no_args_is_help=True)
