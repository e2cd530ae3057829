"""The famchain portal: a browser front end run by an institution that holds no patient key.

The server (:mod:`famchain.portal.server`, FastAPI under uvicorn; ``famchain portal``) answers a small JSON API
from the chain through :class:`famchain.Client` and relays what residents sign (``client.relay``). The page is
``static/index.html`` with plain ES modules: ``static/app/`` (screens, words in zh/en, API calls) and
``static/js/`` (envelope and key-bundle readers and writer, CIDs, the wallet-derived encryption key, EIP-6963
wallet discovery), and third-party code vendored by ``make portal-vendor`` under ``static/vendor/`` (see
``static/vendor/VENDOR.json``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

STATIC_DIR: Final = Path(str(resources.files("famchain.portal").joinpath("static")))
"""The directory the portal serves at ``/``: ``js/`` and ``vendor/``."""

__all__ = ["STATIC_DIR"]
