"""Delivery channels: webhook, SMTP e-mail, GitHub issue, Google OAuth revoke.

Every call has a timeout and carries the delivery's idempotency key (an `Idempotency-Key`
header; in the JSON payload, the issue body and the e-mail's Message-ID too) so a receiver can
drop a retry of something it already got. Only a 2xx answer counts: a redirect is a failure and is
never followed (following it would turn the POST into a GET elsewhere and report success for a
revocation that never happened). Errors become short strings without request bodies (which may
carry tokens being revoked).
"""

from __future__ import annotations

import base64
import http.client
import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from typing import Any

from scanner.errors import DeliveryError as DeliveryError  # its old home
from scanner.respond.notice import Notice, visible
from scanner.respond.settings import RespondSettings


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx code


_OPENER = urllib.request.build_opener(_NoRedirect)


def shown(target: str) -> str:
    """A target as logs may show it: a URL's host only, since webhook URLs (Slack's, for one)
    carry their credential in the path and may carry a user and password before the host."""
    parts = urllib.parse.urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return target
    port = f":{parts.port}" if parts.port else ""
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname}{port}{rest}"


def _without_userinfo(url: str, headers: dict[str, str]) -> str:
    """urllib cannot send a URL's `user:password@`: move it into a Basic Authorization header."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url
    pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    headers.setdefault("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _post(url: str, data: bytes, headers: dict[str, str], timeout: float) -> int:
    headers = {"User-Agent": "devtoken", **headers}
    request = urllib.request.Request(
        _without_userinfo(url, headers), data=data, method="POST", headers=headers
    )
    host = shown(url).split("://", 1)[-1].removesuffix("/…")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:
            raise DeliveryError(
                f"HTTP {error.code} redirect from {host} (not followed: nothing was delivered)"
            ) from None
        raise DeliveryError(f"HTTP {error.code} from {host}") from None
    except TimeoutError:
        raise DeliveryError(f"no answer from {host} within {timeout:g}s") from None
    except http.client.HTTPException as error:
        raise DeliveryError(f"bad answer from {host}: {type(error).__name__}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise DeliveryError(f"no answer from {host} within {timeout:g}s") from None
        raise DeliveryError(f"cannot reach {host}: {type(reason).__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from {host}")
    return status


def send_webhook(notice: Notice, settings: RespondSettings, key: str) -> str:
    if not settings.webhook_url:
        raise DeliveryError("no webhook URL configured (DEVTOKEN_WEBHOOK_URL)")
    payload: dict[str, Any] = (
        notice.slack() if settings.webhook_format == "slack" else notice.json(key)
    )
    _post(
        settings.webhook_url,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json", "Idempotency-Key": key},
        settings.timeout,
    )
    return settings.webhook_url


def send_email(notice: Notice, settings: RespondSettings, key: str) -> str:
    if not settings.smtp_host or not settings.smtp_to:
        raise DeliveryError(
            "no SMTP host or recipients configured (DEVTOKEN_SMTP_HOST, DEVTOKEN_SMTP_TO)"
        )
    message = EmailMessage()
    message["Subject"] = visible(notice.title)  # one line: no header injection
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.smtp_to)
    message["Message-ID"] = f"<{key}@devtoken>"
    message["X-Devtoken-Incident"] = notice.incident
    message.set_content(notice.body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except TimeoutError:
        raise DeliveryError(
            f"no answer from SMTP {settings.smtp_host}:{settings.smtp_port} "
            f"within {settings.timeout:g}s"
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(
            f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(error).__name__}"
        ) from None
    return ",".join(settings.smtp_to)


def open_issue(notice: Notice, settings: RespondSettings, key: str) -> str:
    if not settings.github_repo or not settings.github_token:
        raise DeliveryError(
            "no GitHub repository or token configured (DEVTOKEN_GITHUB_REPO, GITHUB_TOKEN)"
        )
    url = f"{settings.github_api.rstrip('/')}/repos/{settings.github_repo}/issues"
    _post(
        url,
        json.dumps(notice.issue(key)).encode(),
        {
            "Content-Type": "application/json",
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {settings.github_token}",
            "Idempotency-Key": key,
        },
        settings.timeout,
    )
    return settings.github_repo


def revoke_token(token: str, settings: RespondSettings, key: str) -> str:
    """POST the token to Google's OAuth revoke endpoint (or the configured one)."""
    _post(
        settings.revoke_url,
        urllib.parse.urlencode({"token": token}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": key},
        settings.timeout,
    )
    return settings.revoke_url
