"""Sources turn what the user named (paths, stdin, logs) into inputs with provenance.

Only sources open files or decompress; they hand the scan plain byte blocks.
"""
