"""``python -m famchain`` runs the CLI."""

from famchain.cli import main

main()
