"""Error messages with every rule match masked.

An exception's text can quote what it choked on (a config value, a line of a scanned file, a
token handed to a library), and the CLI's one error boundary prints that text: it is run
through the rules first, like any scanned content, so a secret never reaches a terminal or a
CI log in clear by way of an error.
"""

from __future__ import annotations


def masked(text: str, bare: bool = False) -> str:
    """`text` with each match of the bundled rules replaced by its redacted form; with
    `bare`, also each run that could be a credential with no key beside it (for the text
    of an unexpected exception, which may quote anything; devtoken's own error messages
    name paths, whose long segments must stay readable).

    When the rules themselves cannot be loaded, the text is withheld rather than shown
    unchecked; when a rule times out on it, it is masked as `bare` text is."""
    try:
        from scanner.engine import Engine
        from scanner.engine.chunks import ScanNotes
        from scanner.masking import apply_masks, mask_token_like, rule_masks
        from scanner.rules import load_rules

        engine = Engine(load_rules(), "regex")  # no Hyperscan compile on an error path
        notes = ScanNotes()
        text = apply_masks(text, rule_masks(engine, text.encode("utf-8", "surrogatepass"), notes))
    except Exception:
        return "(message withheld: it could not be checked for secrets)"
    return mask_token_like(text) if bare or notes.timeouts else text
