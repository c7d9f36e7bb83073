"""The compiled methods of devtoken's dataclasses, cached: a fifth of the hook's time.

`dataclasses` writes every generated method (`__init__`, `__repr__`, `__eq__`,
`__setattr__` of a frozen class, ...) as source text and compiles it each time
the class is defined, so each process pays for ~180 compiles before it does
any work: ~25 ms of the pre-commit hook on a 2-core machine, every commit.
The text is a pure function of the class definition and the interpreter, so
its compiled code can be kept across runs as Python keeps a module's .pyc:
`install()` makes `dataclasses` compile through `_exec`, which looks the exact
text up in the signed entry (scanner.signedcache) of the module defining the
class, for this interpreter, and compiles only what the entry lacks; `flush()`
rewrites the entry of each module that had to compile, with the texts its
classes use now. One entry per module, so a run loads only the modules it
imports, and an edited module's entry holds its current methods, not every
version it had.

Only classes defined in devtoken's own modules go through the cache; any other
dataclass in the process is compiled as `dataclasses` compiles it. Code built
from a text is what `exec(text)` builds (same file name "<string>", no
inherited compiler flags), so a hit changes nothing but time, and a missing,
stale, forged or unreadable entry costs only the compiles. The command line
installs it before anything else is imported (scanner.cli.startup); a program
importing the library keeps the interpreter as it was.
"""

from __future__ import annotations

import builtins
import marshal
import sys
from types import CodeType

from scanner.signedcache import private_dir, read_signed, signed_cache, write_signed

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

_MAGIC = b"devtoken dataclass code 2\n"
_FOLDER = f"dataclass-code-{sys.implementation.cache_tag}"  # in the cache directory
_OWN_PACKAGE = __name__.partition(".")[0]

_entries: dict[str, dict[str, CodeType]] = {}  # module -> text -> code, as its entry held it
_used: dict[str, dict[str, CodeType]] = {}  # module -> the texts its classes used in this run
_missed: set[str] = set()  # modules that compiled something: their entries are rewritten
_state = {"installed": False}
_where: list[tuple[Path, bytes] | None] = []  # the cache directory and key, looked up once


def install() -> None:
    """Route devtoken's dataclass compiles through the cache (idempotent)."""
    if _state["installed"]:
        return
    import dataclasses

    _state["installed"] = True
    # dataclasses calls the name `exec`; a module global shadows the builtin
    dataclasses.exec = _exec  # type: ignore[attr-defined]


def _exec(source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> None:
    """`exec` as `dataclasses` calls it, the compile of devtoken's method texts cached.

    Source text is compiled here with no inherited compiler flags, as `exec` in
    dataclasses.py compiles it: `exec` called from this module would compile it
    under this module's `from __future__ import annotations`.
    """
    if isinstance(source, str):
        module = _own_module(globals)
        code = _entry(module).get(source) if module else None
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            if module:
                _missed.add(module)
        if module:
            _used.setdefault(module, {})[source] = code
        source = code
    builtins.exec(source, globals, locals)


def _own_module(globals: dict[str, Any] | None) -> str | None:
    """The name of the devtoken module whose class is being made, or None."""
    name = globals.get("__name__") if isinstance(globals, dict) else None
    if isinstance(name, str) and name.partition(".")[0] == _OWN_PACKAGE:
        return name
    return None


def _entry(module: str) -> dict[str, CodeType]:
    """What `module`'s signed entry holds for this interpreter (read once), or nothing."""
    entry = _entries.get(module)
    if entry is None:
        entry = _entries[module] = _read(module)
    return entry


def _header(module: str) -> bytes:
    return _MAGIC + f"{module}\n{sys.version}\n".encode("utf-8", "replace")


def _read(module: str) -> dict[str, CodeType]:
    if not _where:
        _where.append(signed_cache(create=False))
    cache = _where[0]
    if cache is None:
        return {}
    folder, key = cache
    body = read_signed(_path(folder, module), _header(module), key)
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


def _path(folder: Path, module: str) -> Path:
    return folder / _FOLDER / f"{module}.cache"


def flush() -> None:
    """Rewrite the entry of every module that compiled something since the last flush."""
    if not _missed:
        return
    missed = sorted(_missed)
    _missed.clear()
    cache = signed_cache()
    if cache is None or not private_dir(cache[0] / _FOLDER):
        return
    folder, key = cache
    for module in missed:
        used = _used.get(module, {})
        _entries[module] = dict(used)
        write_signed(_path(folder, module), _header(module), key, marshal.dumps(used))
