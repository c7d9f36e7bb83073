"""Everything that touches git lives in this package (and nothing else does).

Bulk reads go through streaming `git` subprocess pipes (`log --raw`,
`cat-file --batch`); repository handling for `devtoken git` uses GitPython.
"""
