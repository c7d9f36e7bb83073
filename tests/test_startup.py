"""The command line's start-up: cached dataclass code, a deferred `inspect`, hashing
without OpenSSL. Each saves the pre-commit hook time and must change nothing else."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scanner import digests
from scanner.cli.startup import DeferredModule

REPO = Path(__file__).resolve().parent.parent

# A fresh interpreter that starts as `devtoken` does, defines a dataclass in a module of
# devtoken's and one elsewhere, and says what it compiled and what the classes do.
_PROBE = """
import builtins, json, sys
import scanner.cli  # the command line's start-up
from scanner import codecache
import dataclasses
compiled = []
real_compile = builtins.compile
def counting(source, *args, **kwargs):
    if isinstance(source, str) and source.startswith("def __create_fn__"):
        compiled.append(source)
    return real_compile(source, *args, **kwargs)
builtins.compile = counting
import types
module = sys.modules[NAME] = types.ModuleType(NAME)  # dataclasses reads its globals
exec(compile(SOURCE, "<probe>", "exec", dont_inherit=True), module.__dict__)
Point = module.Point
p = Point(1, "a")
try:
    p.x = 2
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
codecache.flush()
print(json.dumps({"compiled": len(compiled), "repr": repr(p), "eq": p == Point(1, "a"),
                  "hash": hash(p) == hash(Point(1, "a")), "frozen": frozen,
                  "doc": Point.__doc__, "inspect": "ast" in sys.modules}))
"""
_CLASS = '''
from dataclasses import dataclass
@dataclass(frozen=True, order=True)
class Point:
    """A point."""
    x: int
    label: str = "z"
'''


def _probe(tmp_path: Path, module: str, source: str = _CLASS) -> dict[str, object]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DEVTOKEN_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    script = _PROBE.replace("NAME", repr(module)).replace("SOURCE", repr(source))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_devtoken_dataclass_code_is_compiled_once_then_read_from_the_cache(
    tmp_path: Path,
) -> None:
    first = _probe(tmp_path, "scanner.probe")
    second = _probe(tmp_path, "scanner.probe")
    behaviour = {"repr": "Point(x=1, label='a')", "eq": True, "hash": True, "frozen": True}
    assert {k: first[k] for k in behaviour} == behaviour
    assert {k: second[k] for k in behaviour} == behaviour
    # __init__, __repr__, __eq__, 4 orderings, __hash__, __setattr__, __delattr__
    assert (first["compiled"], second["compiled"]) == (10, 0)
    assert first["inspect"] is False  # nothing needed inspect: it was never loaded


def test_an_edited_module_keeps_only_its_current_methods(tmp_path: Path) -> None:
    """One entry per module, rewritten with what its classes use now: editing a class
    does not grow the cache, and another module's entry is left alone."""
    _probe(tmp_path, "scanner.probe")
    _probe(tmp_path, "scanner.other")
    folder = next((tmp_path / "cache").glob("dataclass-code-*"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    edited = _CLASS.replace('label: str = "z"', 'label: str = "z"\n    extra: int = 0')
    assert _probe(tmp_path, "scanner.probe", edited)["compiled"] == 10
    assert _probe(tmp_path, "scanner.probe", edited)["compiled"] == 0
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(after) == ["scanner.other.cache", "scanner.probe.cache"]
    assert after["scanner.other.cache"] == before["scanner.other.cache"]
    assert _probe(tmp_path, "scanner.probe")["compiled"] == 10  # the old class: gone


def test_other_dataclasses_are_compiled_as_python_compiles_them(tmp_path: Path) -> None:
    """Compiled every time, kept nowhere, and without this module's compiler flags: their
    `__init__` annotations are the types, not the names dataclasses bound them to."""
    bare = _CLASS.replace('    """A point."""\n', "")
    for _ in range(2):
        result = _probe(tmp_path, "elsewhere", bare)
        assert (result["compiled"], result["doc"]) == (10, "Point(x: int, label: str = 'z')")
    assert not list((tmp_path / "cache").glob("dataclass-code-*/*"))


@pytest.mark.parametrize("damage", ["garbage", "forged", "truncated"])
def test_a_bad_code_cache_entry_costs_compiles_never_behaviour(tmp_path: Path, damage: str) -> None:
    _probe(tmp_path, "scanner.probe")
    (entry,) = (tmp_path / "cache").glob("dataclass-code-*/scanner.probe.cache")
    data = entry.read_bytes()
    header_end = data.index(b"\n", data.index(b"\n") + 1) + 1
    body = data[header_end + digests.MAC_SIZE :]
    entry.write_bytes(
        {
            "garbage": b"garbage",
            "forged": data[:header_end] + digests.mac(b"k" * 32, data[:header_end] + body) + body,
            "truncated": data[:-100],
        }[damage]
    )
    again = _probe(tmp_path, "scanner.probe")
    assert (again["compiled"], again["repr"], again["frozen"]) == (
        10,
        "Point(x=1, label='a')",
        True,
    )
    assert _probe(tmp_path, "scanner.probe")["compiled"] == 0  # the rebuilt entry is used


def test_a_class_without_a_docstring_still_gets_its_signature_as_doc(tmp_path: Path) -> None:
    """The one use dataclasses makes of `inspect`: the deferred module imports it then."""
    bare = _CLASS.replace('    """A point."""\n', "")
    result = _probe(tmp_path, "scanner.probe", bare)
    assert (result["doc"], result["inspect"]) == ("Point(x: int, label: str = 'z')", True)


def test_a_deferred_module_imports_the_real_one_on_first_use_and_stands_for_it() -> None:
    import importlib

    name = "colorsys"  # nothing in the suite imports it
    assert name not in sys.modules
    deferred = sys.modules[name] = DeferredModule(name)
    try:
        assert importlib.import_module(name) is deferred  # `import` alone loads nothing
        assert "_deferred_real" not in vars(deferred)
        assert deferred.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
        real = sys.modules[name]
        assert real is not deferred and importlib.import_module(name) is real
        assert deferred.rgb_to_hsv is real.rgb_to_hsv and "hls_to_rgb" in dir(deferred)
        deferred.probe_attribute = 1  # written through to the real module
        assert vars(real).pop("probe_attribute") == 1
    finally:
        sys.modules.pop(name, None)


def test_digests_are_hashlibs_sha256_and_keyed_blake2b() -> None:
    for data in (b"", b"abc", os.urandom(100_000)):
        assert digests.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    key, message = os.urandom(32), b"header and body"
    expected = hashlib.blake2b(message, key=key, digest_size=32).digest()
    assert digests.mac(key, message) == expected
    assert digests.mac(os.urandom(32), message) != expected
    assert digests.same_mac(expected, expected) and not digests.same_mac(expected, b"x" * 32)
    assert digests.same_mac is hmac.compare_digest or digests.same_mac(b"a", b"a")


def test_the_code_cache_is_installed_by_the_command_line_only() -> None:
    """A program importing the library keeps its interpreter: nothing patched."""
    done = subprocess.run(
        [sys.executable, "-c", "import scanner.api, dataclasses, sys;"
         "print(hasattr(dataclasses, 'exec'), type(sys.modules['inspect']).__name__)"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )  # fmt: skip
    assert done.stdout.split() == ["False", "module"]


def test_only_the_program_leaves_its_objects_to_the_operating_system(
    cli: Any, tmp_path: Path
) -> None:
    """`console()` (the console script) freezes what the run made, so the interpreter's
    last collections skip it, and still writes every byte; `main()`, which tests and
    programs call, never freezes."""
    import gc

    assert cli("rules").code == 0
    assert gc.get_freeze_count() == 0
    tokens = [f"GOOGLE_ADS_DEVELOPER_TOKEN={secrets.token_urlsafe(16)}" for _ in range(300)]
    (tmp_path / "many.env").write_text("\n".join(tokens) + "\n")
    script = (
        "import gc, sys; sys.argv = ['devtoken', 'scan', 'many.env', '--format', 'json'];"
        "from scanner.cli import console; code = console();"
        "sys.stderr.write(f'{code} {gc.get_freeze_count() > 0}')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path,
    )  # fmt: skip
    assert done.stderr.splitlines()[-1].endswith("1 True")
    assert len(json.loads(done.stdout)["findings"]) == 300  # the whole document was written


def test_the_hook_never_loads_what_it_defers(tmp_path: Path) -> None:
    """`inspect`, `ipaddress` and `signal` are imported by the standard library at start-up
    and used by nothing on the hook path: after a blocked commit's scan each is still the
    stand-in; a history scan, which stops git processes, loads `signal` when it needs it."""
    from tests.gitrepo import Repo

    repo = Repo(tmp_path / "repo")
    repo.write("n.env", "GOOGLE_ADS_DEVELOPER_TOKEN=Zk3mQ9vTb2LxWc7RnP4s_g\n")
    repo.git("add", "n.env")
    probe = (
        "import sys; before = set(sys.modules);"
        "from scanner.cli import main; code = main(ARGV);"
        "from scanner.cli.startup import DEFERRED;"
        "print(code, *(n + ('=loaded-before' if n in before else '=' + type(sys.modules[n])"
        ".__name__) for n in DEFERRED))"
    )
    import site

    # -S: no .pth files, as in a regular install (an editable install's import hook loads
    # ipaddress before any program starts); the packages are found through PYTHONPATH
    path = os.pathsep.join([str(REPO), *site.getsitepackages()])
    env = {**os.environ, "PYTHONPATH": path}
    for argv in (["scan", "--staged", "--quiet"], ["scan", "n.env", "--quiet"]):
        done = subprocess.run(
            [sys.executable, "-S", "-c", probe.replace("ARGV", repr(argv))],
            capture_output=True, text=True, env=env, cwd=repo.path, check=True,
        )  # fmt: skip
        assert done.stdout.split("\n")[-2] == (
            "1 inspect=DeferredModule ipaddress=DeferredModule signal=DeferredModule"
        ), done.stderr
    import signal

    deferred = DeferredModule("signal")
    assert deferred.SIGKILL is signal.SIGKILL  # a stand-in still answers as the module
