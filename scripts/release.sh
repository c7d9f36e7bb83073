#!/usr/bin/env bash
# Tag a release: v<version> from pyproject.toml, the name a pre-commit config's `rev:` pins.
#
#   scripts/release.sh           # tag HEAD, then say how to publish the tag
#   scripts/release.sh --push    # tag HEAD and push the tag to origin
#
# Refuses uncommitted changes, a tag that exists, and a README whose pre-commit snippet
# pins another `rev:` (the README's instructions must name the release they ship with).
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "release: $*" >&2; exit 1; }

push=0
case "${1:-}" in
  "") ;;
  --push) push=1 ;;
  *) fail "unknown argument '$1' (usage: scripts/release.sh [--push])" ;;
esac

version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' pyproject.toml | head -n 1)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "pyproject.toml version '$version' is not X.Y.Z"
tag="v$version"

[ -z "$(git status --porcelain --untracked-files=no)" ] || fail "uncommitted changes: commit them first"
! git rev-parse -q --verify "refs/tags/$tag" >/dev/null || fail "tag $tag exists already"
readme_rev=$(sed -n '/^### Pre-commit hook/,/^### [^P]/s/^ *rev: *\([^ #]*\).*/\1/p' README.md | head -n 1)
[ "$readme_rev" = "$tag" ] || fail "README's pre-commit snippet pins rev: '$readme_rev', not $tag: update it first"

git tag -a "$tag" -m "devtoken $version"
echo "tagged $tag at $(git rev-parse --short HEAD)"
if [ "$push" = 1 ]; then
  git push origin "refs/tags/$tag"
else
  echo "publish it with: git push origin $tag"
fi
