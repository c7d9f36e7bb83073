"""The org-wide scan's groundwork: enumerate repositories (GitHub, GitLab, an explicit list)
and keep a local mirror of each, so later stages scan only what changed since last time.

Sources give plain `RepositoryRef`s; `mirror.MirrorCache` turns them into up-to-date bare
mirrors and reports, per repository, the ref tips before and after each update.
"""
