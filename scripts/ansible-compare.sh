#!/bin/sh
# drillbook's per-step cost as a fraction of Ansible's per-task cost, the
# same number of trivial steps/tasks on this machine, in one run.
#
#   scripts/ansible-compare.sh [N]     (default 200)
#
# Installs PyPI ansible-core into a throw-away venv (deleted at exit), runs a
# local playbook of N `ansible.builtin.debug` tasks, then drillbook with a
# runbook of N steps each doing one lab read, and prints both. Needs python3
# with venv and a release build (`cargo build --release`).
set -eu
N=${1:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${DRILLBOOK:-$ROOT/target/release/drillbook}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet ansible-core

{
  echo "- hosts: localhost"
  echo "  connection: local"
  echo "  gather_facts: false"
  echo "  tasks:"
  i=0
  while [ "$i" -lt "$N" ]; do
    echo "    - ansible.builtin.debug: { msg: \"step $i\" }"
    i=$((i + 1))
  done
} > "$WORK/play.yml"
# One task, for Ansible's fixed start-up cost.
head -5 "$WORK/play.yml" > "$WORK/one.yml"

now() { python3 -c 'import time; print(time.time())'; }
elapsed() { python3 -c "print($2 - $1)"; }

run_ansible() {
  t0=$(now)
  ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False \
    "$WORK/venv/bin/ansible-playbook" -i localhost, "$1" > /dev/null
  elapsed "$t0" "$(now)"
}

cat > "$WORK/steps.rhai" <<RHAI
runbook(#{ name: "compare", version: "1.0.0", summary: "compare", rto_minutes: 5, source: "compare" });
for i in 0..$N { step(\`s\${i}\`, || sql::reachable("pcsql-dub1")); }
RHAI
sed "s/0\.\.$N/0..1/" "$WORK/steps.rhai" > "$WORK/one.rhai"

run_drillbook() {
  "$BIN" --home "$WORK/home" lab init > /dev/null
  t0=$(now)
  "$BIN" --home "$WORK/home" run "$1" --yes > /dev/null
  elapsed "$t0" "$(now)"
}

a_all=$(run_ansible "$WORK/play.yml")
a_one=$(run_ansible "$WORK/one.yml")
d_all=$(run_drillbook "$WORK/steps.rhai")
d_one=$(run_drillbook "$WORK/one.rhai")
python3 - "$N" "$a_all" "$a_one" "$d_all" "$d_one" <<'PY'
import sys
n, a_all, a_one, d_all, d_one = int(sys.argv[1]), *map(float, sys.argv[2:])
a = (a_all - a_one) / (n - 1)
d = (d_all - d_one) / (n - 1)
print(f"ansible-playbook: {a*1000:.2f} ms per task ({n} tasks, {a_all:.2f} s)")
print(f"drillbook run:    {d*1000:.2f} ms per step ({n} steps, one lab read each, journaled; {d_all:.2f} s)")
print(f"drillbook's per-step cost is {d/a:.3f} of Ansible's per-task cost")
PY
