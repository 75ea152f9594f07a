#!/usr/bin/env bash
# Re-extract every msgid of the portal, the agent and common/, merge into the zh_CN
# catalogue, and compile it. Run from the repository root after changing UI text.
set -euo pipefail
dir=common/translations
.venv/bin/pybabel extract -F $dir/babel.cfg -k N_ -k lazy_gettext -k _l \
  --no-location --sort-output -o $dir/messages.pot portal sync_agent common
.venv/bin/pybabel update -i $dir/messages.pot -d $dir -l zh_CN --no-fuzzy-matching
.venv/bin/pybabel compile -d $dir
