"""devtoken: find leaked Google Ads API developer tokens and the credentials that leak with them."""

from __future__ import annotations

__version__ = "0.1.0"
