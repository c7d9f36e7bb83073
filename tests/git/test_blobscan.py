"""A history match carries its secret as a `Secret`: redacted wherever it is shown,
whole where it is used, and cheap to send between worker processes."""

from __future__ import annotations

import pickle

from scanner.engine import Engine
from scanner.git.blobscan import BlobMatch, BlobScanner
from scanner.secret import Secret

T = "Zk3mQ9vTb2LxWc7RnP4s_g"


def _match(engine: Engine) -> BlobMatch:
    data = f"x = 1\ndeveloper_token: {T}\n".encode()
    [match] = BlobScanner(engine).feed_all([(b"a" * 40, data, "")]).matches
    return match


def test_repr_of_a_blob_match_shows_the_secret_redacted_only(engine: Engine) -> None:
    match = _match(engine)
    assert T not in repr(match) and T not in str(match)
    assert "Secret('Zk3m…_g')" in repr(match)
    assert (match.secret.reveal(), match.line, match.column) == (T, 2, 18)


def test_a_blob_match_pickles_to_an_equal_match(engine: Engine) -> None:
    match = _match(engine)
    back = pickle.loads(pickle.dumps(match))
    assert back == match
    assert back.secret == Secret(T, 4) and back.secret.reveal() == T
