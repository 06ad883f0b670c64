#!/usr/bin/env bash
# ansible-test sanity, offline: it needs the collection at .../ansible_collections/<ns>/<name>/
# (a copy of the tracked files) and a local stand-in for the get-pip script it downloads.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$ROOT/.cache/sanity/ansible_collections/datadog_privatelink/aws"
GET_PIP="$HOME/.ansible/test/cache/get_pip_24_2.py"

mkdir -p "$(dirname "$GET_PIP")"
if [ ! -s "$GET_PIP" ]; then
  cat > "$GET_PIP" <<'PY'
# Offline stand-in for get-pip.py: bootstrap pip from the interpreter's ensurepip.
import ensurepip
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel", "--disable-pip-version-check")]
ensurepip._main(["--upgrade", "--default-pip"] + [a for a in args if a.startswith("--root") or a == "--user"])
PY
fi

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$ROOT"
# Tracked and new (not ignored) files, as they are in the work tree.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  # What galaxy.yml's build_ignore leaves out of the collection is not sanity-tested either.
  case "$f" in sandbox/*|tests/sandbox/*|twin/*|tests/twin/*|benchmarks/*|.ci/*|dev|requirements-dev.txt) continue ;; esac
  mkdir -p "$WORK/$(dirname "$f")"
  cp -p "$f" "$WORK/$f"
done
# Collections ours depends on sit beside it, where ansible-test looks for them.
AMAZON_AWS="$(python -c 'import ansible_collections.amazon.aws as m; print(list(m.__path__)[0])')"
mkdir -p "$ROOT/.cache/sanity/ansible_collections/amazon"
ln -sfn "$AMAZON_AWS" "$ROOT/.cache/sanity/ansible_collections/amazon/aws"
cd "$WORK"
git init -q . && git add -A >/dev/null 2>&1 && git -c user.email=ci@localhost -c user.name=ci commit -qm sanity >/dev/null
ansible-test sanity --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no "$@"
