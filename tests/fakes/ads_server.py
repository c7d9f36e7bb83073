"""A fake Google Ads API CustomerService over TLS on 127.0.0.1, for the real google-ads client.

Errors travel as the API sends them: a gRPC status plus a serialized
GoogleAdsFailure in the `google.ads.googleads.v26.errors.googleadsfailure-bin`
trailing metadata, which the client's exception interceptor turns into a
GoogleAdsException.
"""

from __future__ import annotations

import datetime
import ipaddress
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.ads.googleads.v26.errors.types import (
    authentication_error,
    authorization_error,
    errors,
    quota_error,
)
from google.ads.googleads.v26.services.types import customer_service

VERSION = "v26"
FAILURE_KEY = f"google.ads.googleads.{VERSION}.errors.googleadsfailure-bin"
CUSTOMERS = ["customers/1234567890", "customers/9876543210"]


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost / 127.0.0.1 and its key, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "localhost.pem", directory / "localhost.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _failure(**error_code: Any) -> bytes:
    return bytes(
        errors.GoogleAdsFailure.serialize(
            errors.GoogleAdsFailure(
                errors=[
                    errors.GoogleAdsError(error_code=errors.ErrorCode(**error_code), message="fake")
                ]
            )
        )
    )


AUTH = authentication_error.AuthenticationErrorEnum.AuthenticationError
AUTHZ = authorization_error.AuthorizationErrorEnum.AuthorizationError
QUOTA = quota_error.QuotaErrorEnum.QuotaError


class FakeAds:
    """Answers by a marker in the bearer token; `accept_all` answers every call with success."""

    def __init__(self, directory: Path, accept_all: bool = False) -> None:
        self.cert, key = self_signed_cert(directory)
        self.accept_all = accept_all
        self.calls: list[dict[str, str | bytes]] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler(
            f"google.ads.googleads.{VERSION}.services.CustomerService",
            {
                "ListAccessibleCustomers": grpc.unary_unary_rpc_method_handler(
                    self._list,
                    request_deserializer=customer_service.ListAccessibleCustomersRequest.deserialize,
                    response_serializer=customer_service.ListAccessibleCustomersResponse.serialize,
                )
            },
        )
        self.server.add_generic_rpc_handlers((handler,))
        credentials = grpc.ssl_server_credentials([(key.read_bytes(), self.cert.read_bytes())])
        self.port = self.server.add_secure_port("127.0.0.1:0", credentials)

    @property
    def endpoint(self) -> str:
        return f"localhost:{self.port}"

    def __enter__(self) -> FakeAds:
        self.server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.stop(grace=None)

    def _list(self, _request: Any, context: grpc.ServicerContext) -> Any:
        metadata = dict(context.invocation_metadata())
        self.calls.append(metadata)
        token = str(metadata.get("authorization", ""))
        if self.accept_all or "LIVE" in token:
            return customer_service.ListAccessibleCustomersResponse(resource_names=CUSTOMERS)
        if "ADSSLOW" in token:
            time.sleep(5)
        answers = {
            "EXPIRED": (
                grpc.StatusCode.UNAUTHENTICATED,
                {"authentication_error": AUTH.OAUTH_TOKEN_EXPIRED},
            ),
            "NOTADS": (
                grpc.StatusCode.PERMISSION_DENIED,
                {"authentication_error": AUTH.NOT_ADS_USER},
            ),
            "PROJECT": (
                grpc.StatusCode.PERMISSION_DENIED,
                {"authorization_error": AUTHZ.CLOUD_PROJECT_NOT_APPROVED_FOR_PRODUCTION},
            ),
            "QUOTA": (
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                {"quota_error": QUOTA.RESOURCE_EXHAUSTED},
            ),
        }
        for marker, (code, error_code) in answers.items():
            if marker in token:
                context.set_trailing_metadata(((FAILURE_KEY, _failure(**error_code)),))
                context.abort(code, "fake Google Ads failure")
        context.abort(grpc.StatusCode.INTERNAL, "unexpected")
