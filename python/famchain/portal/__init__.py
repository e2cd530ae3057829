"""The famchain portal: a browser front end run by an institution that holds no patient key.

This package ships the portal's static files (``static/``): plain ES modules under ``static/js/`` (envelope
and key-bundle readers, CIDs, the wallet-derived encryption key, EIP-6963 wallet discovery) and third-party
code vendored by ``make portal-vendor`` under ``static/vendor/`` (see ``static/vendor/VENDOR.json``). The
server and the screens come later (issue #12).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

STATIC_DIR: Final = Path(str(resources.files("famchain.portal").joinpath("static")))
"""The directory the portal serves at ``/``: ``js/`` and ``vendor/``."""

__all__ = ["STATIC_DIR"]
