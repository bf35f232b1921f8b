#!/usr/bin/env bash
# The main job on the bundled data: list the bundled trials, show one with its rules, and screen the example
# patients against all of them, writing HTML reports to demo-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
tm=.venv/bin/trialmatch
examples=src/trialmatch/data/patients/examples
as_of=2026-11-21   # fixed so the demo's output is reproducible; omit --as-of to screen as of today

echo "== Bundled trials"
$tm trials list
echo
echo "== One trial with its rules (NCT03530696)"
$tm trials show NCT03530696
if [ -d "$examples" ]; then
  echo
  echo "== Screening the example patients as of $as_of"
  $tm screen "$examples"/*.json --as-of "$as_of" --answers "$examples/answers.yaml"
  $tm screen "$examples"/*.json --as-of "$as_of" --answers "$examples/answers.yaml" --format html --out demo-output
  echo "HTML reports: demo-output/index.html"
  echo
  echo "== The coordinator's work-list (demo-output/worklist.sqlite3): add two patients, list, re-screen later"
  db="sqlite:///$PWD/demo-output/worklist.sqlite3"
  rm -f demo-output/worklist.sqlite3*
  $tm worklist add "$examples"/ex-02.json "$examples"/ex-04.json --as-of "$as_of" --db "$db"
  $tm worklist list --db "$db"
  $tm worklist rescreen --as-of 2026-11-27 --db "$db"
fi

echo
echo "== The web page and HTTP API for coordinators"
echo "Start it with:  .venv/bin/trialmatch serve"
echo "It listens on 127.0.0.1:8000 and prints a login link with a one-time token; API calls need"
echo "'Authorization: Bearer <token>' (set TRIALMATCH_API_TOKEN to choose it). See docs/api.md."
echo "The work-list pages are at /ui/worklist (docs/worklist.md)."
