#!/usr/bin/env bash
# The scan step of devtoken's GitHub Action (action.yml): what to scan (from the event
# payload), the scan itself, the step's outputs and its summary.
#
# A shell script, not inline `run:` text, so it is tested locally with the environment
# GitHub sets (tests/test_github_action.py). Inputs arrive as INPUT_* environment variables
# and are only ever expanded inside double quotes: nothing from the event, a branch name, a
# path or a commit message is evaluated.
set -euo pipefail

# ---- helpers ---------------------------------------------------------------------------

die() {
  # Bad input or an unusable checkout: one line, exit 2 (devtoken's usage-error code).
  printf 'devtoken action: error: %s\n' "${1//[[:cntrl:]]/?}" >&2
  exit 2
}

NOTES=()
note() {
  # Said on the log and repeated in the step summary (fallbacks, shallow clones).
  printf 'devtoken action: %s\n' "${1//[[:cntrl:]]/?}" >&2
  NOTES+=("${1//[[:cntrl:]]/?}")
}

bool() {
  # The value of boolean input $2 (named $1), as true/false; anything else is an error (the
  # upload step's `if:` compares with 'true' as GitHub does: ignoring case).
  case "${2,,}" in
    true) printf 'true' ;;
    false) printf 'false' ;;
    *) die "input $1 must be true or false, not '$2'" ;;
  esac
}

one_line() {
  # A value that goes into GITHUB_OUTPUT or a message must not smuggle in another line.
  case "$2" in
    *$'\n'* | *$'\r'*) die "input $1 must not contain a line break" ;;
  esac
}

is_sha() {
  [[ "$1" =~ ^[0-9a-f]{40}$ || "$1" =~ ^[0-9a-f]{64}$ ]]
}

is_zero() {
  [[ "$1" =~ ^0+$ ]]
}

have_commit() {
  git -C "$REPO" cat-file -e "$1^{commit}" 2>/dev/null
}

short() {
  printf '%s' "${1:0:12}"
}

# ---- inputs ----------------------------------------------------------------------------

SCAN="${INPUT_SCAN:-range}"
FAIL_ON="${INPUT_FAIL_ON:-new}"
BASELINE="${INPUT_BASELINE:-}"
VERIFY="$(bool verify "${INPUT_VERIFY:-false}")"
UPLOAD="$(bool upload-sarif "${INPUT_UPLOAD_SARIF:-true}")"
WORKSPACE="${GITHUB_WORKSPACE:-$PWD}"
REPO_INPUT="${INPUT_PATH:-.}"
SARIF="${INPUT_SARIF_FILE:-}"

case "$SCAN" in
  range | history | tree) ;;
  *) die "input scan must be range, history or tree, not '$SCAN'" ;;
esac
case "$FAIL_ON" in
  new | any | live | none) ;;
  *) die "input fail-on must be new, any, live or none, not '$FAIL_ON'" ;;
esac
if [ "$FAIL_ON" = live ] && [ "$VERIFY" != true ]; then
  die "fail-on: live needs verify: true (only a verified credential is known to be live)"
fi
one_line path "$REPO_INPUT"
one_line baseline "$BASELINE"
one_line sarif-file "$SARIF"

case "$REPO_INPUT" in
  /*) REPO="$REPO_INPUT" ;;
  *) REPO="$WORKSPACE/$REPO_INPUT" ;;
esac
[ -d "$REPO" ] || die "path '$REPO_INPUT' is not a directory in the workspace"
REPO="$(cd -- "$REPO" && pwd)"
if [ -z "$SARIF" ]; then
  SARIF="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/devtoken.sarif"
fi
case "$SARIF" in
  /*) ;;
  *) SARIF="$WORKSPACE/$SARIF" ;;
esac
if [ -n "$BASELINE" ]; then
  case "$BASELINE" in
    /*) ;;
    *) BASELINE="$REPO/$BASELINE" ;;
  esac
  [ -f "$BASELINE" ] || die "baseline '${INPUT_BASELINE}' does not exist (relative to path)"
fi

command -v devtoken >/dev/null 2>&1 || die "devtoken is not on PATH (the install step failed?)"
# The interpreter devtoken runs in reads the event and the SARIF (the stdlib is enough).
PYTHON="$(dirname "$(command -v devtoken)")/python"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3 || true)"
[ -n "$PYTHON" ] || die "no python3 to read the event payload with"

# ---- what to scan ----------------------------------------------------------------------

if [ "$SCAN" != tree ]; then
  git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 \
    || die "'$REPO_INPUT' is not a git repository: run actions/checkout (fetch-depth: 0) first"
  if [ "$(git -C "$REPO" rev-parse --is-shallow-repository)" = true ]; then
    note "the checkout is shallow: history before it is not scanned (actions/checkout: fetch-depth: 0)"
  fi
fi

# The event's fields, NUL-separated: kind, base, head, default branch, pushed or base ref,
# forced.
# Only commit ids leave this reader as revisions; names are checked before git sees them.
event_fields() {
  "$PYTHON" - "${GITHUB_EVENT_NAME:-}" "${GITHUB_EVENT_PATH:-}" <<'PY'
import json
import sys

name, path = sys.argv[1], sys.argv[2]
try:
    with open(path, encoding="utf-8") as handle:
        event = json.load(handle)
except (OSError, ValueError):
    event = {}
if not isinstance(event, dict):
    event = {}


def get(*keys):
    value = event
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, (str, bool)) else ""


default = get("repository", "default_branch")
if name == "push":
    fields = ["push", get("before"), get("after"), default, get("ref"), get("forced")]
elif name in ("pull_request", "pull_request_target"):
    fields = ["pull_request", get("pull_request", "base", "sha"),
              get("pull_request", "head", "sha"), default,
              "refs/heads/" + get("pull_request", "base", "ref"), False]
elif name == "merge_group":
    fields = ["merge_group", get("merge_group", "base_sha"), get("merge_group", "head_sha"),
              default, get("merge_group", "base_ref"), False]
else:
    fields = ["other", "", "", default, "", False]
for field in fields:
    text = ("true" if field else "false") if isinstance(field, bool) else field
    sys.stdout.write(text.replace("\0", "") + "\0")
PY
}

# A branch's remote-tracking ref in this checkout, if the name is a valid branch name and
# the ref exists (actions/checkout with fetch-depth: 0 creates refs/remotes/origin/*).
tracking_ref() {
  local name="${1#refs/heads/}"
  [ -n "$name" ] || return 1
  git check-ref-format --branch "$name" >/dev/null 2>&1 || return 1
  git -C "$REPO" rev-parse --verify --quiet "refs/remotes/origin/$name^{commit}" >/dev/null \
    || return 1
  printf 'refs/remotes/origin/%s' "$name"
}

RANGE_BASE=""
RANGE_HEAD=""
SCANNED=""
DESCRIPTION=""

# No usable base: the commits the head has that the branch it grows from (the default
# branch for a push, the base branch for a pull request) lacks, or, when that cannot be
# known (that branch is not in the checkout, or the push went to the default branch
# itself), every commit reachable from the head.
fall_back() {
  local reason="$1" against_ref="" merge_base=""
  if [ -n "$AGAINST" ] \
    && against_ref="$(tracking_ref "$AGAINST")" \
    && merge_base="$(git -C "$REPO" merge-base "$against_ref" "$RANGE_HEAD" 2>/dev/null)"; then
    RANGE_BASE="$merge_base"
    note "$reason: scanning the commits not on $AGAINST_LABEL ($(short "$merge_base")..$(short "$RANGE_HEAD"))"
  else
    RANGE_BASE=""
    note "$reason: scanning the whole history of $(short "$RANGE_HEAD")"
  fi
}

if [ "$SCAN" = range ]; then
  fields=()
  while IFS= read -r -d '' field; do fields+=("$field"); done < <(event_fields)
  [ "${#fields[@]}" -eq 6 ] || die "could not read the event payload at GITHUB_EVENT_PATH"
  KIND="${fields[0]}" BEFORE="${fields[1]}" AFTER="${fields[2]}"
  DEFAULT_BRANCH="${fields[3]}" REF="${fields[4]}" FORCED="${fields[5]}"
  if [ "$KIND" = push ]; then
    AGAINST="$DEFAULT_BRANCH" AGAINST_LABEL="the default branch"
    [ "$REF" != "refs/heads/$DEFAULT_BRANCH" ] || AGAINST=""
  else
    AGAINST="${REF#refs/heads/}" AGAINST_LABEL="the base branch"
  fi
  case "$KIND" in
    other)
      note "the ${GITHUB_EVENT_NAME:-unknown} event has no pushed range: scanning the whole history"
      SCAN=history
      ;;
    *)
      if [ "$KIND" = push ] && is_zero "$AFTER"; then
        note "the push deleted a branch or tag: nothing to scan"
        SCAN=none
      else
        is_sha "$AFTER" || die "the $KIND event names no head commit"
        have_commit "$AFTER" \
          || die "commit $(short "$AFTER") is not in the checkout: use actions/checkout with fetch-depth: 0"
        RANGE_HEAD="$AFTER"
        if [ "$KIND" = push ] && is_zero "$BEFORE"; then
          fall_back "a new branch or tag"
        elif ! is_sha "$BEFORE"; then
          fall_back "the event names no base commit"
        elif ! have_commit "$BEFORE"; then
          if [ "$FORCED" = true ]; then
            fall_back "force push: the previous tip $(short "$BEFORE") is not in the checkout"
          else
            fall_back "the base $(short "$BEFORE") is not in the checkout"
          fi
        else
          RANGE_BASE="$BEFORE"
          if [ "$FORCED" = true ]; then
            note "force push: scanning what $(short "$AFTER") adds over the previous tip $(short "$BEFORE")"
          fi
        fi
      fi
      ;;
  esac
fi

args=()
case "$SCAN" in
  range)
    if [ -n "$RANGE_BASE" ]; then
      args=(git "$REPO" --range "$RANGE_BASE..$RANGE_HEAD")
      SCANNED="range $RANGE_BASE..$RANGE_HEAD"
      DESCRIPTION="the commits $(short "$RANGE_BASE")..$(short "$RANGE_HEAD")"
    else
      args=(git "$REPO" --branch "$RANGE_HEAD")
      SCANNED="history $RANGE_HEAD"
      DESCRIPTION="the whole history of $(short "$RANGE_HEAD")"
    fi
    ;;
  history)
    args=(git "$REPO")
    SCANNED="history"
    DESCRIPTION="the whole history (every ref)"
    ;;
  tree)
    args=(scan .) # from the repository, so SARIF paths are relative to it
    SCANNED="tree"
    DESCRIPTION="the checked-out files"
    ;;
  none)
    SCANNED="none"
    DESCRIPTION="nothing (the push deleted a ref)"
    ;;
esac

# ---- the scan --------------------------------------------------------------------------

# fail-on maps onto devtoken's own --fail-on; "any" ignores the baseline (known findings
# fail too and are reported), every other mode reports only what the baseline lacks.
case "$FAIL_ON" in
  new) devtoken_fail_on=any ;;
  any) devtoken_fail_on=any ;;
  live) devtoken_fail_on=live ;;
  none) devtoken_fail_on=none ;;
esac
if [ -n "$BASELINE" ] && [ "$FAIL_ON" = any ]; then
  note "fail-on: any ignores the baseline: known findings are reported and fail the job"
  BASELINE=""
fi

rm -f -- "$SARIF"
rc=0
if [ "$SCAN" != none ]; then
  args+=(--format sarif --output "$SARIF" --fail-on "$devtoken_fail_on")
  [ -z "$BASELINE" ] || args+=(--baseline "$BASELINE")
  [ "$VERIFY" != true ] || args+=(--verify)
  mkdir -p -- "$(dirname -- "$SARIF")"
  printf 'devtoken action: scanning %s\n' "$DESCRIPTION" >&2
  # Nothing devtoken prints (a scanned path, a warning) may issue a workflow command.
  stop_token="devtoken-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  printf '::stop-commands::%s\n' "$stop_token"
  (cd -- "$REPO" && devtoken "${args[@]}") || rc=$?
  printf '::%s::\n' "$stop_token"
fi

# ---- outputs and summary ---------------------------------------------------------------

# Counts and the summary's table from the SARIF devtoken wrote: findings, live, then one
# markdown line per rule and per finding (paths made inert: every other character an entity).
sarif_report() {
  "$PYTHON" - "$SARIF" <<'PY'
import json
import sys
from collections import Counter
from urllib.parse import unquote

SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/.- ")
LIMIT = 50


def inert(text):
    return "".join(c if c in SAFE else f"&#{ord(c)};" for c in text)


try:
    with open(sys.argv[1], encoding="utf-8") as handle:
        results = json.load(handle)["runs"][0]["results"]
except (OSError, ValueError, KeyError, IndexError, TypeError):
    print("unreadable")
    sys.exit(0)
# a finding of a bundle Google accepts (what --fail-on live fails on), not a member's own check
live = sum(
    1 for r in results if (r.get("properties") or {}).get("bundle_verification") == "live"
)
print(len(results))
print(live)
rules = Counter(str(r.get("ruleId", "")) for r in results)
for rule, count in sorted(rules.items()):
    print(f"rule| `{inert(rule)}` | {count} |")
for result in results[:LIMIT]:
    try:
        location = result["locations"][0]["physicalLocation"]
        path = unquote(location["artifactLocation"]["uri"])
        line = int(location["region"]["startLine"])
    except (KeyError, IndexError, TypeError, ValueError):
        path, line = "?", 0
    status = (result.get("properties") or {}).get("verification") or "skipped"
    status = "not verified" if status == "skipped" else status
    print(f"item| {inert(path)} | {line} | `{inert(str(result.get('ruleId', '')))}` | {inert(str(status))} |")
if len(results) > LIMIT:
    print(f"more|{len(results) - LIMIT}")
PY
}

FINDINGS=0
LIVE=0
REPORT=()
if [ -s "$SARIF" ]; then
  mapfile -t REPORT < <(sarif_report)
  if [ "${REPORT[0]:-unreadable}" = unreadable ]; then
    note "the SARIF file devtoken wrote could not be read"
    REPORT=()
  else
    FINDINGS="${REPORT[0]}"
    LIVE="${REPORT[1]}"
    REPORT=("${REPORT[@]:2}")
  fi
fi

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    printf 'findings=%s\n' "$FINDINGS"
    printf 'live=%s\n' "$LIVE"
    printf 'scanned=%s\n' "$SCANNED"
    printf 'repo=%s\n' "$REPO"
    if [ -s "$SARIF" ]; then printf 'sarif=%s\n' "$SARIF"; else printf 'sarif=\n'; fi
  } >>"$GITHUB_OUTPUT"
fi

case "$rc" in
  0) verdict="passed" ;;
  1) verdict="failed: fail-on $FAIL_ON" ;;
  *) verdict="error (devtoken exit $rc)" ;;
esac

code_scanning_link() {
  # Only well-formed values become a link.
  local server="${GITHUB_SERVER_URL:-https://github.com}" repo="${GITHUB_REPOSITORY:-}"
  [[ "$server" =~ ^https?://[A-Za-z0-9.:-]+$ ]] || return 1
  [[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || return 1
  printf '%s/%s/security/code-scanning?query=is%%3Aopen+tool%%3Adevtoken' "$server" "$repo"
}

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    printf '## devtoken\n\n'
    if [ "$FINDINGS" -eq 0 ]; then
      printf 'No findings in %s.\n\n' "$DESCRIPTION"
    else
      printf '**%s finding(s)** in %s' "$FINDINGS" "$DESCRIPTION"
      [ "$VERIFY" != true ] || printf ', %s verified live' "$LIVE"
      printf '.\n\n'
    fi
    printf -- '- Result: %s\n' "$verdict"
    # shellcheck disable=SC2016 # the backquotes are markdown
    printf -- '- Fail on: `%s`%s\n' "$FAIL_ON" "$([ -z "$BASELINE" ] || printf ', known findings from the baseline left out')"
    [ "$VERIFY" = true ] || printf -- '- Not verified (verify: false)\n'
    for line in "${NOTES[@]}"; do printf -- '- Note: %s\n' "$line"; done
    if [ "$UPLOAD" = true ] && link="$(code_scanning_link)"; then
      printf -- '- [Code scanning alerts](%s)\n' "$link"
    fi
    rule_lines=() item_lines=() more=""
    for line in "${REPORT[@]}"; do
      case "$line" in
        rule\|*) rule_lines+=("${line#rule}") ;;
        item\|*) item_lines+=("${line#item}") ;;
        more\|*) more="${line#more|}" ;;
      esac
    done
    if [ "${#rule_lines[@]}" -gt 0 ]; then
      printf '\n| Rule | Findings |\n| --- | ---: |\n'
      printf '%s\n' "${rule_lines[@]}"
      printf '\n| File | Line | Rule | Verification |\n| --- | ---: | --- | --- |\n'
      printf '%s\n' "${item_lines[@]}"
      [ -z "$more" ] || printf '\n… and %s more in the SARIF file.\n' "$more"
    fi
  } >>"$GITHUB_STEP_SUMMARY"
fi

printf 'devtoken action: %s finding(s) in %s; %s\n' "$FINDINGS" "$DESCRIPTION" "$verdict" >&2
exit "$rc"
