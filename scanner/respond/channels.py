"""Delivery channels: webhook, SMTP e-mail, GitHub issue, Google OAuth revoke.

Every call has a timeout; errors become short strings without request bodies
(which may carry tokens being revoked).
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from typing import Any

from scanner.respond.notice import Notice
from scanner.respond.settings import RespondSettings


class DeliveryError(Exception):
    """A channel did not accept the message; the text is safe to print."""


def _post(url: str, data: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"User-Agent": "devtoken", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code} from {urllib.parse.urlsplit(url).netloc}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(
            f"cannot reach {urllib.parse.urlsplit(url).netloc}: {type(error).__name__}"
        ) from None


def send_webhook(notice: Notice, settings: RespondSettings) -> str:
    if not settings.webhook_url:
        raise DeliveryError("no webhook URL configured (DEVTOKEN_WEBHOOK_URL)")
    payload: dict[str, Any] = (
        notice.slack() if settings.webhook_format == "slack" else notice.json()
    )
    _post(
        settings.webhook_url,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json"},
        settings.timeout,
    )
    return settings.webhook_url


def send_email(notice: Notice, settings: RespondSettings) -> str:
    if not settings.smtp_host or not settings.smtp_to:
        raise DeliveryError(
            "no SMTP host or recipients configured (DEVTOKEN_SMTP_HOST, DEVTOKEN_SMTP_TO)"
        )
    message = EmailMessage()
    message["Subject"] = notice.title
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.smtp_to)
    message["X-Devtoken-Incident"] = notice.incident
    message.set_content(notice.body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(
            f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(error).__name__}"
        ) from None
    return ",".join(settings.smtp_to)


def open_issue(notice: Notice, settings: RespondSettings) -> str:
    if not settings.github_repo or not settings.github_token:
        raise DeliveryError(
            "no GitHub repository or token configured (DEVTOKEN_GITHUB_REPO, GITHUB_TOKEN)"
        )
    url = f"{settings.github_api.rstrip('/')}/repos/{settings.github_repo}/issues"
    body = json.dumps(
        {
            "title": notice.title,
            "body": f"```\n{notice.body}\n```",
            "labels": ["security", "leaked-credential"],
        }
    ).encode()
    _post(
        url,
        body,
        {
            "Content-Type": "application/json",
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {settings.github_token}",
        },
        settings.timeout,
    )
    return settings.github_repo


def revoke_token(token: str, settings: RespondSettings) -> str:
    """POST the token to Google's OAuth revoke endpoint (or the configured one)."""
    _post(
        settings.revoke_url,
        urllib.parse.urlencode({"token": token}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
        settings.timeout,
    )
    return settings.revoke_url
