"""`scan()` wires the pipeline: sources -> engine -> filters -> result.

The CLI only builds a ScanConfig, calls this and renders the result, so every
stage can be driven from tests with literal inputs.

Suppressed matches are counted; only `--explain` keeps them with their context,
and at most EXPLAIN_LIMIT of them, so a log that repeats a masked token on
every line costs neither memory nor the work of locating each one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

from scanner.config import ScanConfig
from scanner.engine import Engine
from scanner.engine.chunks import ScanNotes, scan_blocks
from scanner.filters import SuppressionCap
from scanner.models import Finding, InputResult, Match, Provenance, Skipped, Suppressed
from scanner.rules import Rule, load_rules
from scanner.sources.decode import BLOCK, utf8_readings

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor
    from typing import Any

    from scanner.progress import FileMeter, FileTick, OnProgress
    from scanner.sources.compressed import Limits
    from scanner.sources.files import Input
    from scanner.sources.reader import Reading

EXPLAIN_LIMIT = 1000  # suppressed matches --explain lists (the rest are counted)


@dataclass
class ScanResult:
    """Findings, suppressions and counts of one scan, added to input by input."""

    rules: tuple[Rule, ...]
    engine: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    bytes_scanned: int = 0
    files_scanned: int = 0
    duration: float = 0.0
    extra_stats: dict[str, Any] = field(default_factory=dict)  # source-specific (git: commits)
    bundles: list[Any] = field(default_factory=list)  # bundles.Bundle, set by the CLI
    verifications: dict[str, Any] = field(default_factory=dict)  # bundle id -> BundleVerification
    keep_suppressed: int | None = None  # bound on `suppressed`; None keeps all
    suppressed_unlisted: Counter[str] = field(default_factory=Counter)  # rule id -> n

    @property
    def suppressed_by_rule(self) -> Counter[str]:
        """Every suppressed match, listed or only counted, by rule id."""
        return Counter(s.match.rule.id for s in self.suppressed) + self.suppressed_unlisted

    def add(self, part: InputResult) -> None:
        self.findings.extend(part.findings)
        self.suppressed.extend(part.suppressed)
        self.suppressed_unlisted.update(part.suppressed_unlisted)
        if self.keep_suppressed is not None and len(self.suppressed) > 2 * self.keep_suppressed:
            self._trim_suppressed()
        self.skipped.extend(part.skipped)
        self.bytes_scanned += part.bytes_scanned
        self.files_scanned += part.scanned

    def _trim_suppressed(self) -> None:
        """Keep the first `keep_suppressed` by report order (whatever order inputs finish in)."""
        self.suppressed.sort(key=Suppressed.sort_key)
        for item in self.suppressed[self.keep_suppressed :]:
            self.suppressed_unlisted[item.match.rule.id] += 1
        del self.suppressed[self.keep_suppressed :]

    def finish(self, started: float) -> ScanResult:
        self.findings.sort(key=Finding.sort_key)
        if self.keep_suppressed is not None:
            self._trim_suppressed()
        self.suppressed.sort(key=Suppressed.sort_key)
        self.skipped.sort(key=lambda s: (s.path, s.reason))
        self.duration = time.perf_counter() - started
        return self


def build_engine(config: ScanConfig) -> Engine:
    return Engine(
        load_rules(config.rules_dir, config.rule_ids),
        backend=config.engine,
        timeout=config.rule_timeout,
    )


def scan(
    config: ScanConfig, engine: Engine | None = None, on_progress: OnProgress | None = None
) -> ScanResult:
    """Scan every path in `config`; never stops on a bad input.

    `on_progress` (a progress bar): the inputs are listed first, so files and bytes done
    come with their totals; without it nothing is listed ahead or counted.
    """
    started = time.perf_counter()
    engine = engine or build_engine(config)
    result = ScanResult(
        rules=engine.rules, engine=engine.backend, keep_suppressed=config.keep_suppressed
    )
    from scanner.sources.files import iter_inputs  # files, archives, compressed streams:
    # not what the pre-commit hook (scan_bytes) reads

    items: Iterable[Input | Skipped] = iter_inputs(
        config.paths, config.exclude, config.max_file_size
    )
    meter = None
    if on_progress is not None:
        from scanner.progress import FileMeter

        meter = FileMeter(on_progress)
        items = meter.listed(items)
    for part in _scan_all(items, engine, config, meter):
        result.add(part)
    return result.finish(started)


def _scan_all(
    items: Iterable[Input | Skipped],
    engine: Engine,
    config: ScanConfig,
    meter: FileMeter | None = None,
) -> Iterator[InputResult]:
    """Small files inline; files larger than a chunk on worker threads.

    Per-file work on small files is Python-bound, and threads contending for the
    GIL made a 5,000-file tree 2x slower. Big files spend their time in
    Hyperscan and I/O, which release the GIL, so they run in parallel.
    """
    with ExitStack() as stack:
        pool: ThreadPoolExecutor | None = None  # started by the first big file only
        pending: list[Future[InputResult]] = []
        for item in items:
            if isinstance(item, Skipped):
                yield InputResult(skipped=[item])
            elif config.jobs > 1 and (item.size or 0) > config.chunk_size:
                if pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    pool = stack.enter_context(
                        ThreadPoolExecutor(max_workers=config.jobs, thread_name_prefix="devtoken")
                    )
                pending.append(pool.submit(scan_input, item, engine, config, meter=meter))
            else:
                yield scan_input(item, engine, config, meter=meter)
        for future in pending:
            yield future.result()


def scan_input(
    item: Input,
    engine: Engine,
    config: ScanConfig,
    block_size: int = BLOCK,
    *,
    meter: FileMeter | None = None,
) -> InputResult:
    """Scan every reading of one input (archive members, both readings of a guessed
    decode); errors become Skipped entries, never exceptions. `meter` counts its bytes."""
    from scanner.sources.reader import open_readings

    result = InputResult()
    seen: set[tuple[str, str, str]] = set()  # what earlier readings of a path found
    tick = meter.file(item) if meter is not None else None
    with ExitStack() as stack:
        try:
            readings = open_readings(item, stack, limits_of(config), block_size)
            for reading in readings:
                if isinstance(reading, Skipped):
                    result.skipped.append(reading)
                else:
                    _scan_reading(reading, engine, config, result, seen, tick)
        except OSError as exc:
            reason = "partial" if result.scanned else "unreadable"
            result.skipped.append(Skipped(item.display, reason, exc.strerror or str(exc)))
    _collapse_binary_members(item.display, result)
    if tick is not None:
        tick.done()
    return result


def _collapse_binary_members(display: str, result: InputResult) -> None:
    """A jar's thousand .class members are one skipped entry, not a thousand."""
    members = [s for s in result.skipped if s.reason == "binary" and s.path != display]
    if len(members) > 1:
        result.skipped = [s for s in result.skipped if s.reason != "binary" or s.path == display]
        detail = f"{len(members)} binary archive members (--scan-binary)"
        result.skipped.append(Skipped(display, "binary", detail))


def limits_of(config: ScanConfig) -> Limits:
    from scanner.sources.compressed import Limits

    return Limits(
        config.max_decompressed_size, config.max_decompression_ratio, config.max_archive_depth
    )


def _scan_reading(
    reading: Reading,
    engine: Engine,
    config: ScanConfig,
    result: InputResult,
    seen: set[tuple[str, str, str]],
    tick: FileTick | None = None,
) -> None:
    if reading.encoding is None and not config.scan_binary:
        result.skipped.append(Skipped(reading.display, "binary", "binary content (--scan-binary)"))
        return
    provenance = Provenance(reading.display, reading.source, reading.encoding or "binary")
    sorter = Classifier(provenance, result, config.keep_suppressed)
    notes = ScanNotes()
    blocks: Iterable[bytes] = reading.blocks
    if tick is not None and not reading.alternate:
        blocks = tick.blocks(blocks)
    try:
        for match in scan_blocks(
            engine, blocks, config.chunk_size, wanted=sorter.wanted, notes=notes
        ):
            key = (reading.display, match.rule.id, match.secret.reveal())
            if reading.alternate and key in seen:
                continue
            seen.add(key)
            sorter.add(match)
    except OSError as exc:
        reading.errors.append(("partial", f"read error: {exc.strerror or exc}"))
    if not reading.alternate:
        result.bytes_scanned += reading.bytes_read
    result.scanned = True
    result.skipped.extend(Skipped(reading.display, r, d) for r, d in reading.errors)
    result.skipped.extend(timeouts_skipped(reading.display, notes))


def timeouts_skipped(path: str, notes: ScanNotes) -> list[Skipped]:
    return [Skipped(path, "rule-timeout", t.describe()) for t in notes.timeouts]


class Classifier:
    """Sorts one reading's matches into its input's findings and suppressed matches, keeping
    at most `keep` suppressed ones per input (see SuppressionCap)."""

    def __init__(self, provenance: Provenance, into: InputResult, keep: int) -> None:
        self.provenance, self.into = provenance, into
        self.cap = SuppressionCap(keep - len(into.suppressed), into.suppressed_unlisted)
        self.wanted = self.cap.wanted

    def add(self, match: Match) -> None:
        kept, reason = self.cap.sort(match)
        if reason is None:
            self.into.findings.append(Finding(match, self.provenance))
        elif kept:
            self.into.suppressed.append(Suppressed(match, self.provenance, reason))


def scan_text(text: str | bytes, engine: Engine, path: str = "<text>") -> InputResult:
    """Scan literal text through the whole engine (rule examples, tests)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return scan_bytes(data, engine, Provenance(path, "text"))


def scan_bytes(
    data: bytes,
    engine: Engine,
    provenance: Provenance,
    scan_binary: bool = False,
    keep_suppressed: int = EXPLAIN_LIMIT,
) -> InputResult:
    """Scan one in-memory input (a staged blob, a test string) like a file."""
    result = InputResult(bytes_scanned=len(data), scanned=True)
    readings = utf8_readings(data)
    if readings[0][0] is None and not scan_binary:
        result.skipped.append(Skipped(provenance.path, "binary", "binary content (--scan-binary)"))
        result.scanned = False
        return result
    sorter = Classifier(provenance, result, keep_suppressed)
    notes = ScanNotes()
    seen: set[tuple[str, str]] = set()
    for index, (_, text) in enumerate(readings):
        for match in scan_blocks(engine, [text], wanted=sorter.wanted, notes=notes):
            key = (match.rule.id, match.secret.reveal())
            if index and key in seen:
                continue
            seen.add(key)
            sorter.add(match)
    result.skipped.extend(timeouts_skipped(provenance.path, notes))
    return result
