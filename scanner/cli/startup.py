"""What the command line sets up before it imports anything else: the hook's start-up time.

A pre-commit hook starts devtoken once per commit, so interpreter start-up is
most of what a commit waits for (the budget: 150 ms median on 10 staged
files). Three of its costs come from the interpreter rather than from
devtoken's work, and are removed here for the command line only: importing
this module prepares the interpreter, and scanner.cli imports it first; a
program that imports the library keeps its interpreter as it was.

- `dataclasses` compiles every method it generates at every start (~180
  compiles, ~25 ms): scanner.codecache keeps the compiled code.
- `dataclasses` imports `inspect` (and with it ast, dis, tokenize, linecache:
  ~12 ms), for one call it makes only for a class without a docstring, which
  no class of devtoken is. `inspect` is registered as a `DeferredModule`
  that imports the real module on first use, and stands for it after; so
  are `ipaddress` and `signal`, which the standard library imports at
  start-up and the hook never uses (~4 ms).
- On the way out the interpreter's final garbage collections walk every
  object the run made (~15 ms): `leaving()` skips them.
"""

from __future__ import annotations

import sys
from types import ModuleType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

# Imported by the standard library at start-up, used on the hook path by nothing: `inspect`
# (dataclasses: see above), `ipaddress` (urllib.parse, which pathlib imports, needs it only
# for a bracketed host in a URL) and `signal` (subprocess needs it only to signal a child).
DEFERRED = ("inspect", "ipaddress", "signal")


class DeferredModule(ModuleType):
    """A module imported on the first use of one of its attributes, then standing for it.

    `import name` finds it in `sys.modules` and reads only its `__spec__`
    (which it has); any other attribute, read or written, imports the real
    module, puts that in `sys.modules`, and goes to it from then on.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        from importlib.machinery import ModuleSpec

        self.__dict__["__spec__"] = ModuleSpec(name, None)  # not through __setattr__

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._real(), attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        setattr(self._real(), attribute, value)

    def __dir__(self) -> list[str]:
        return dir(self._real())

    def _real(self) -> ModuleType:
        real = self.__dict__.get("_deferred_real")
        if real is None:
            import importlib

            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
            self.__dict__["_deferred_real"] = real
        return real


def prepare() -> None:
    """Defer the modules nothing on the hook path uses; cache dataclass code (idempotent)."""
    for name in DEFERRED:
        if name not in sys.modules:
            sys.modules[name] = DeferredModule(name)
    from scanner import codecache  # after: it imports pathlib, which imports ipaddress

    codecache.install()


def finish() -> None:
    """Keep what this run compiled for the next one."""
    from scanner import codecache

    codecache.flush()


def leaving() -> None:
    """The process is about to exit: its objects are left to the operating system.

    The interpreter's last garbage collections walk every object the run made
    (~12,000 after a hook run: ~15 ms, a tenth of the hook's budget) to free
    memory the process is about to give back. Frozen, they are skipped; modules
    are still cleared, atexit handlers run and the standard streams are flushed.
    Only for a process that ends now (a test calling `main()` must not freeze).
    """
    import gc

    gc.freeze()


prepare()  # on import: scanner.cli imports this module before anything else
