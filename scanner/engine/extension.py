"""A package's C extension loaded on its own, without running the package's Python.

What the engine needs from `regex` and `hyperscan` is their C extension; their
`__init__` costs the pre-commit hook more than the extension does (regex's
pure-Python parser ~20 ms, hyperscan's `typing` import and NamedTuple ~5 ms).
The extension is registered in `sys.modules` under its full name, so a later
`import regex` or `import hyperscan` uses this very module and the objects of
both are of one type.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec


def load_extension(package: str, name: str) -> ModuleType:
    """`package.name` (a C extension), loaded alone; ImportError if it cannot be."""
    full = f"{package}.{name}"
    module = sys.modules.get(full)
    if module is not None:
        return module
    spec = extension_spec(package, name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {full!r}", name=full)
    from importlib.util import module_from_spec

    try:
        module = module_from_spec(spec)
        spec.loader.exec_module(module)
    except OSError as exc:
        raise ImportError(f"{full}: {exc}", name=full) from exc
    sys.modules[full] = module
    return module


def extension_spec(package: str, name: str) -> ModuleSpec | None:
    """Where `package.name` is, found without importing `package`."""
    from importlib.machinery import PathFinder

    found = PathFinder.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    return PathFinder.find_spec(f"{package}.{name}", found.submodule_search_locations)


def extension_origin(package: str, name: str) -> tuple[str, str, str]:
    """Which file the extension is (path, size, change time): what keys a cache built with it.

    A reinstall or upgrade changes it, so an entry the old extension built is not
    handed to the new one.
    """
    loaded = sys.modules.get(f"{package}.{name}")
    path = getattr(loaded, "__file__", None) if loaded is not None else None
    if path is None:
        spec = extension_spec(package, name)
        path = spec.origin if spec is not None else None
    try:
        info = os.stat(path) if path else None
    except OSError:
        info = None
    return (path or "", str(info.st_size if info else ""), str(info.st_mtime_ns if info else ""))
