"""The compiled methods of devtoken's dataclasses, cached: a quarter of the hook's time.

`dataclasses` writes every generated method (`__init__`, `__repr__`, `__eq__`,
`__setattr__` of a frozen class, ...) as source text and compiles it each time
the class is defined, so each process pays for ~180 compiles before it does
any work: ~40 ms of the pre-commit hook's ~200 ms on a 2-core machine, every
commit. The text is a pure function of the class definition and the
interpreter, so its compiled code can be kept across runs as Python keeps a
module's .pyc: `install()` makes `dataclasses` compile through `_exec`, which
looks the exact text up in a signed entry of devtoken's cache
(scanner.signedcache, keyed by the interpreter's version) and compiles only
what the entry lacks; `flush()` signs and stores what was compiled.

The command line installs it before anything else is imported
(scanner.cli.startup); a program importing the library keeps the interpreter as
it was.

Only classes defined in devtoken's own modules go through the cache; any other
dataclass in the process is compiled by the builtin `exec`, unchanged. Code
built from a text is what `exec(text)` builds (same file name "<string>", no
inherited compiler flags), so a hit changes nothing but time, and a missing,
stale, forged or unreadable entry costs only the compiles.
"""

from __future__ import annotations

import builtins
import marshal
import sys
from types import CodeType

from scanner.signedcache import read_signed, signed_cache, write_signed

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

_MAGIC = b"devtoken dataclass code 1\n"
_FILE = f"dataclass-code-{sys.implementation.cache_tag}.cache"
# An entry keeps what earlier runs compiled; past this many texts (code edited
# many times under one interpreter) it keeps only the texts the saving run used.
MAX_ENTRIES = 4096
_OWN_PACKAGE = __name__.partition(".")[0]

_codes: dict[str, CodeType] = {}  # text -> its code, from the entry and from this run
_used: set[str] = set()
_state = {"installed": False, "missed": False}


def install() -> None:
    """Route devtoken's dataclass compiles through the cache (idempotent)."""
    if _state["installed"]:
        return
    import dataclasses

    _state["installed"] = True
    _codes.update(_load())
    # dataclasses calls the name `exec`; a module global shadows the builtin
    dataclasses.exec = _exec  # type: ignore[attr-defined]


def _exec(source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> None:
    """`exec` as `dataclasses` calls it, the compile of devtoken's method texts cached.

    Source text is compiled here with no inherited compiler flags, as `exec` in
    dataclasses.py compiles it: `exec` called from this module would compile it
    under this module's `from __future__ import annotations`.
    """
    if isinstance(source, str):
        own = _is_own(globals)
        code = _codes.get(source) if own else None
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            if own:
                _codes[source] = code
                _state["missed"] = True
        if own:
            _used.add(source)
        source = code
    builtins.exec(source, globals, locals)


def _is_own(globals: dict[str, Any] | None) -> bool:
    if not isinstance(globals, dict):
        return False
    name = globals.get("__name__")
    return isinstance(name, str) and name.partition(".")[0] == _OWN_PACKAGE


def _header() -> bytes:
    return _MAGIC + sys.version.encode("utf-8", "replace") + b"\n"


def _load() -> dict[str, CodeType]:
    """The texts and code of a signed entry for this interpreter, or nothing."""
    cache = signed_cache(create=False)
    if cache is None:
        return {}
    folder, key = cache
    body = read_signed(folder / _FILE, _header(), key)
    if body is None:
        return {}
    try:
        loaded = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {
        text: code
        for text, code in loaded.items()
        if isinstance(text, str) and isinstance(code, CodeType)
    }


def flush() -> None:
    """Sign and store the code compiled since the entry was read or last stored, if any."""
    if not _state["missed"]:
        return
    _state["missed"] = False
    cache = signed_cache()
    if cache is None:
        return
    folder, key = cache
    kept = _codes if len(_codes) <= MAX_ENTRIES else {t: _codes[t] for t in _used}
    write_signed(folder / _FILE, _header(), key, marshal.dumps(dict(kept)))
