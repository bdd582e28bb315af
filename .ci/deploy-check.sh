#!/usr/bin/env bash
# Checks the shipped deployment files without a running systemd or Docker engine (neither is on
# the CI machine): systemd units with `systemd-analyze verify` plus the mistakes it lets through,
# compose.yaml and the Dockerfile structurally (`docker compose config` and hadolint when present).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
failed=0
problem() {
  echo "deploy check: $*" >&2
  failed=1
}

echo "== systemd units (deploy/systemd)"
# verify wants the executable to exist; node is /usr/bin/node on these machines and in the units.
for unit in deploy/systemd/*.service; do
  before=$failed
  failed=0
  name=$(basename "$unit")
  instance=${name/@.service/@8081.service}
  out=$(cd deploy/systemd && systemd-analyze verify --man=no "./$instance" 2>&1) || problem "$name: systemd-analyze verify failed"
  [[ -z $out ]] || problem "$name: $out"
  # what verify accepts but systemd then gets wrong
  grep -q '^\[Install\]' "$unit" || problem "$name: no [Install] section (systemctl enable does nothing)"
  if grep -Eq '^[A-Za-z]+=.*[[:space:]]#' "$unit"; then problem "$name: a comment after a value becomes part of the value"; fi
  if grep -Eq '^After=.*network-online\.target' "$unit" && ! grep -Eq '^Wants=.*network-online\.target' "$unit"; then
    problem "$name: After=network-online.target without Wants= does not wait for the network"
  fi
  if grep -Eq '[0-9]%i' "$unit"; then problem "$name: a number glued to %i (808%i is 80810 for instance 10)"; fi
  grep -Eq '^ExecStart=/' "$unit" || problem "$name: ExecStart must be an absolute path"
  ((failed == 0)) && echo "$name: ok"
  ((failed |= before)) || true
done

echo "== compose.yaml"
if docker compose version >/dev/null 2>&1; then
  docker compose -f compose.yaml config -q || problem "docker compose config rejects compose.yaml"
else
  echo "(no docker compose plugin: structural check only)"
fi
python3 - <<'PY' || problem "compose.yaml: structure"
import sys, yaml
doc = yaml.safe_load(open('compose.yaml'))
services = doc['services']
def command(name):
    return ' '.join(services[name].get('command', []))
apis = [n for n in services if command(n) == 'serve --no-dispatcher']
workers = [n for n in services if command(n) == 'worker']
assert 'postgres' in services, 'no postgres service'
assert len(apis) == 2, f'expected two API processes, found {apis}'
assert len(workers) == 2, f'expected two workers, found {workers}'
for n in apis + workers:
    env = services[n]['environment']
    assert env['DATABASE_URL'].startswith('postgres://'), f'{n}: DATABASE_URL'
    assert services[n]['depends_on']['postgres']['condition'] == 'service_healthy', f'{n}: should wait for a healthy postgres'
print(f'compose.yaml: postgres, API {apis}, workers {workers}: ok')
PY

echo "== Dockerfile"
if command -v hadolint >/dev/null 2>&1; then
  hadolint Dockerfile || problem "hadolint"
else
  echo "(no hadolint: structural check only)"
fi
[[ $(grep -c '^FROM ' Dockerfile) -ge 2 ]] || problem "Dockerfile: not multi-stage"
grep -Eq '^USER (node|[1-9][0-9]*)' Dockerfile || problem "Dockerfile: runs as root"
grep -q '^HEALTHCHECK .*' Dockerfile && grep -q '/healthz' Dockerfile || problem "Dockerfile: no HEALTHCHECK on /healthz"
# every path the build copies exists and is not excluded by .dockerignore
for path in $(grep -E '^COPY [^-]' Dockerfile | sed -E 's/^COPY //; s/ [^ ]+$//'); do
  [[ -e $path ]] || problem "Dockerfile copies $path, which does not exist"
  if grep -qx "$path" .dockerignore; then problem "Dockerfile copies $path, which .dockerignore leaves out"; fi
done
((failed == 0)) && echo "Dockerfile: ok"

exit $failed
