"""The compiled rule set, cached: parsed rules and compiled patterns for the next run.

Parsing the TOML rule files and compiling their patterns with the `regex`
module (whose parser is pure Python) cost the pre-commit hook ~40 ms of every
commit, imports included, for an answer that changes only when the rules,
devtoken or the regex module do. So a run that parsed and compiled them keeps,
in a signed entry (scanner.signedcache), the rules' fields and each pattern in
the form `regex` itself pickles a pattern as (the arguments of its C
extension's `compile`). The entry is keyed by the bytes of every rule file, the
code that parses them, the Python version and the regex extension's file; a hit
loads that extension alone and builds each pattern from its compiled form, on
first use. A missing, stale, corrupt or forged entry only costs a fresh parse.
"""

from __future__ import annotations

import dataclasses
import marshal
import sys
from collections.abc import Sequence
from pathlib import Path

from scanner.digests import sha256
from scanner.engine.extension import extension_origin, load_extension
from scanner.signedcache import prune, read_signed, signed_cache, write_signed

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

    import regex

    from scanner.rules import Rule

_MAGIC = b"devtoken rules cache 1\n"
# pattern text -> (the extension's version marks, the arguments of its `compile`), from a
# verified entry; a pattern compiles to the same thing wherever it comes from, so one
# table serves every rule set
_forms: dict[str, tuple[tuple[int, int] | None, tuple[Any, ...]]] = {}


def load(directory: Path, sources: Sequence[tuple[str, bytes]]) -> list[Rule] | None:
    """The rules parsed from exactly these `sources` of `directory`, if a signed entry has them."""
    cache = signed_cache()
    if cache is None:
        return None
    folder, key = cache
    digest = _digest(directory, sources)
    body = read_signed(folder / f"rules-{digest.hex()[:32]}.cache", _MAGIC + digest, key)
    if body is None:
        return None
    from scanner.rules import Rule

    try:
        fields, forms, extension = marshal.loads(body)
        rules = [Rule(**item) for item in fields]
        _forms.update((text, (extension, form)) for text, form in forms.items())
    except (EOFError, ValueError, TypeError):
        return None
    return rules


def save(directory: Path, sources: Sequence[tuple[str, bytes]], rules: Sequence[Rule]) -> None:
    """Keep `rules` (compiling every pattern now) for the next run that reads these sources."""
    cache = signed_cache()
    if cache is None:
        return
    folder, key = cache
    forms: dict[str, tuple[Any, ...]] = {}
    for rule in rules:
        for text, compiled in zip(rule.patterns, rule.compiled, strict=True):
            forms[text] = _form(compiled)
        for _name, text in rule.attributes:
            forms[text] = _form(compile_pattern(text))
    if any(not form for form in forms.values()) or _extension_identity() is None:
        return  # this regex cannot say how to rebuild a pattern
    fields = [{f.name: getattr(rule, f.name) for f in dataclasses.fields(rule)} for rule in rules]
    try:
        body = marshal.dumps((fields, forms, _extension_identity()))
    except ValueError:
        return  # a form holds what marshal cannot keep
    digest = _digest(directory, sources)
    write_signed(folder / f"rules-{digest.hex()[:32]}.cache", _MAGIC + digest, key, body)
    prune(folder, "rules-*.cache")


def compile_pattern(text: str) -> regex.Pattern[bytes]:
    """`text` compiled: from its cached form when a verified entry had it, else by `regex`."""
    compiled = cached_pattern(text)
    if compiled is None:
        import regex

        compiled = regex.compile(text.encode("utf-8"))
    return compiled


def cached_pattern(text: str) -> regex.Pattern[bytes] | None:
    """`text` built from the compiled form a verified entry had for it, or None."""
    cached = _forms.get(text)
    if cached is None:
        return None
    identity = _extension_identity()
    if identity is None or cached[0] != identity:
        return None
    return _regex_extension().compile(*cached[1])  # type: ignore[no-any-return]


def _form(compiled: regex.Pattern[bytes]) -> tuple[Any, ...]:
    """What regex pickles a pattern as: the arguments of `_regex.compile`; () if unknown."""
    form = getattr(compiled, "_pickled_data", None)
    return tuple(form) if isinstance(form, tuple) else ()


def _digest(directory: Path, sources: Sequence[tuple[str, bytes]]) -> bytes:
    """What the entry depends on: the rule files, the code reading them, Python, regex."""
    digest = sha256()
    here = Path(__file__).resolve().parent
    code = [here / "rulecache.py", here.parent / "rules.py"]
    origin = extension_origin("regex", "_regex")  # a reinstalled regex re-keys the entry
    for part in (sys.version, str(directory), *(str(p) for p in code), *origin):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for path in code:
        digest.update(_read(path) + b"\0")
    for name, data in sources:
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.digest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"?"


def _extension_identity() -> tuple[int, int] | None:
    """The extension's own version marks, checked before a form is handed to it."""
    extension = _regex_extension()
    if extension is None or not hasattr(extension, "MAGIC"):
        return None
    return (int(extension.MAGIC), int(getattr(extension, "CODE_SIZE", 0)))


def _regex_extension() -> Any:
    """regex's C extension, loaded without the package's pure-Python parser; None if absent
    (scanner.engine.extension keeps it in sys.modules: loaded once)."""
    try:
        return load_extension("regex", "_regex")
    except ImportError:
        return None
