#!/usr/bin/env bash
# Installs schemathesis (the OpenAPI fuzzer the API fuzz test runs) from PyPI into its own
# virtualenv under .tools/schemathesis/<version>, once. Prints the path of that virtualenv's
# python; run the fuzzer as `<python> -m schemathesis.cli run ...`.
#
# Idempotent and cached: a finished install leaves a stamp file, and only a stamped install is
# reused. An interrupted one (no stamp) is removed and redone, so it never half-works.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${SCHEMATHESIS_VERSION:-4.32.5}"
mkdir -p .tools/schemathesis
# The physical path: .tools may be a symlink shared between checkouts, and a virtualenv records
# the path it was made at. Running its python with -m (not bin/schemathesis, whose shebang holds
# that path) keeps it working from any checkout that shares the cache.
home="$(cd .tools/schemathesis && pwd -P)/${version}"
python_bin="${home}/bin/python"
stamp="${home}/.installed"

if [ -f "$stamp" ] && [ -x "$python_bin" ]; then
  echo "$python_bin"
  exit 0
fi

python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1; then
    python="$candidate"
    break
  fi
done
if [ -z "$python" ]; then
  echo "✗ Python 3 is not installed, and the API fuzz test needs it to install schemathesis from PyPI." >&2
  echo "  Install Python 3.9+ with venv and pip (e.g. apt-get install python3-venv python3-pip)." >&2
  exit 69
fi
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "✗ $python has no venv/ensurepip module, needed to install schemathesis." >&2
  echo "  Install it (e.g. apt-get install python3-venv)." >&2
  exit 69
fi

echo "… Installing schemathesis ${version} from PyPI into ${home} (first run only)" >&2
rm -rf "$home"
"$python" -m venv "$home" >&2
if ! "$python_bin" -m pip install --quiet --disable-pip-version-check \
  "schemathesis==${version}" >&2; then
  rm -rf "$home"
  echo "✗ Installing schemathesis ${version} from PyPI failed (see pip's output above)." >&2
  echo "  Check that PyPI is reachable; the next run retries from scratch." >&2
  exit 69
fi
touch "$stamp"
echo "✓ schemathesis ${version} installed" >&2
echo "$python_bin"
