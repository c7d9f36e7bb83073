"""A form POST with a hard timeout and no secret in any error it raises."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from scanner.errors import VerifyError


class NetworkFailure(VerifyError):
    """The call did not get an HTTP answer (refused, reset, timed out, DNS)."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: dict[str, Any]
    retry_after: float | None = None


def post_form(url: str, fields: dict[str, str], timeout: float) -> HttpAnswer:
    """POST `fields` url-encoded; any HTTP status is an answer, no answer is NetworkFailure.

    Messages never include the request: the fields are the secrets.
    """
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "devtoken"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, _json(response.read()))
    except urllib.error.HTTPError as error:
        return HttpAnswer(
            error.code, _json(error.read()), _retry_after(error.headers.get("Retry-After"))
        )
    except TimeoutError:
        raise NetworkFailure(f"no answer within {timeout:g}s") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise NetworkFailure(f"no answer within {timeout:g}s") from None
        raise NetworkFailure(f"cannot reach the endpoint ({type(reason).__name__})") from None
    except (OSError, ValueError) as error:
        raise NetworkFailure(f"connection failed ({type(error).__name__})") from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
