#!/usr/bin/env bash
# Everything the release workflow does except uploading (called by .ci/run on every change):
#   1. build the wheel and the sdist with `uv build` into a scratch folder;
#   2. check their metadata (scripts/check_dist.py: version, summary, README with mcp-name, files);
#   3. install the wheel into a fresh virtualenv (`uv venv` + `uv pip install`; dependencies come from
#      the package index) and run `workers-ai-mcp selftest --emulator` from it, outside the project;
#   4. the README's install paths from a clean clone: `uvx --from <clone>`, `uvx --from <wheel>`,
#      `uv tool install <wheel>` and `uv run --directory <clone> --no-dev` (which must not install the
#      dev tools), and each host configuration's command, as written, answering tools/list;
#   5. the container recipe (scripts/check_container.sh) with the same wheel.
#
#   bash scripts/check_release.sh              # KEEP_DIST=dist keeps the built files there
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
dist="${KEEP_DIST:-$scratch/dist}"
mkdir -p "$dist"

echo "== uv build: wheel and sdist"
uv build --quiet --out-dir "$dist"
wheel="$(ls "$dist"/workers_ai_mcp-*.whl)"
for built in "$dist"/workers_ai_mcp-*; do echo "   $(basename "$built") ($(wc -c <"$built") bytes)"; done

echo "== metadata (scripts/check_dist.py)"
python3 scripts/check_dist.py "$dist"

echo "== the wheel in a fresh virtualenv, outside the project: selftest --emulator"
uv venv --quiet --python "$(command -v python3)" "$scratch/venv"
uv pip install --quiet --python "$scratch/venv/bin/python" "$wheel"
mkdir -p "$scratch/elsewhere"
(
  cd "$scratch/elsewhere"
  env -i "PATH=$scratch/venv/bin:/usr/bin:/bin" "HOME=$scratch/home" \
    "WORKERS_AI_MCP_STATE_DIR=$scratch/state" "WORKERS_AI_MCP_OUTPUT_DIR=$scratch/outputs" \
    "$scratch/venv/bin/workers-ai-mcp" selftest --emulator | tail -1
  "$scratch/venv/bin/python" -c 'import workers_ai_mcp, sys; assert "/venv/" in workers_ai_mcp.__file__, workers_ai_mcp.__file__'
)

echo "== the README's install paths and host configurations (tests/packaging/test_readme_install.py)"
git clone --quiet --no-hardlinks "$root" "$scratch/clone"
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  echo "   (uncommitted changes are not in the clone: the committed tree is what is checked)"
fi
README_INSTALL_CLONE="$scratch/clone" README_INSTALL_WHEEL="$wheel" \
  uv run --frozen pytest -q -p no:cacheprovider tests/packaging/test_readme_install.py -m "slow or not slow"

echo "== container recipe (scripts/check_container.sh)"
bash scripts/check_container.sh "$wheel"
