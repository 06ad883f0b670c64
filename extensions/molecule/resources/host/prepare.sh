#!/usr/bin/env bash
# Test fixture: install the stand-in Agent in one container and start it once.
# Done from the controller with a few podman calls (a module run through the podman
# connection costs about a second per host and task, this costs one for all).
# Usage: prepare.sh CONTAINER KIND VERSION [FIXTURE]
#   KIND: host (datadog-agent.service reading datadog.yaml) | containers (three units
#   standing in for container Agents: env file, compose file, Environment= lines)
set -euo pipefail
NAME="$1" KIND="$2" VERSION="$3" FIXTURE="${4:-}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
PODMAN=(podman --cgroup-manager=cgroupfs --runtime runc)
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

install -d "$STAGE/opt/datadog-agent/bin/agent" "$STAGE/etc/datadog-agent" "$STAGE/etc/systemd/system" \
  "$STAGE/etc/datadog" "$STAGE/opt/datadog" "$STAGE/usr/bin"
install -m 0644 "$HERE/standin/datadog_agent.py" "$STAGE/opt/datadog-agent/bin/agent/standin.py"
printf '#!/bin/sh\nexec /usr/bin/python3 /opt/datadog-agent/bin/agent/standin.py "$@"\n' > "$STAGE/opt/datadog-agent/bin/agent/agent"
chmod 0755 "$STAGE/opt/datadog-agent/bin/agent/agent"
ln -s /opt/datadog-agent/bin/agent/agent "$STAGE/usr/bin/datadog-agent"
echo "$VERSION" > "$STAGE/etc/datadog-agent/standin-version"
if [ "$KIND" = containers ]; then
  UNITS="dd-agent-envfile dd-agent-compose dd-agent-unit"
  install -m 0600 "$HERE/containers/agent.env" "$STAGE/etc/datadog/agent.env"
  install -m 0600 "$HERE/containers/compose.yaml" "$STAGE/opt/datadog/compose.yaml"
else
  UNITS="datadog-agent"
  [ -z "$FIXTURE" ] || install -m 0640 "$HERE/datadog_yaml/$FIXTURE" "$STAGE/etc/datadog-agent/datadog.yaml"
fi
for unit in $UNITS; do install -m 0644 "$HERE/standin/$unit.service" "$STAGE/etc/systemd/system/"; done

tar -C "$STAGE" -cf - . | "${PODMAN[@]}" exec -i "$NAME" tar -C / --no-same-owner --keep-directory-symlink -xf -
"${PODMAN[@]}" exec "$NAME" sh -ec "
  useradd --system --no-create-home dd-agent
  if [ -f /etc/datadog-agent/datadog.yaml ]; then chown dd-agent:dd-agent /etc/datadog-agent/datadog.yaml; fi
  systemctl daemon-reload
  systemctl enable --quiet $UNITS
  # Like the Agent, the stand-in refuses to start on an invalid datadog.yaml.
  systemctl start $UNITS || true
  want=\$(echo $UNITS | wc -w)
  for i in \$(seq 50); do
    [ \"\$(grep -c . /var/lib/datadog-standin/starts.jsonl 2>/dev/null || true)\" = \"\$want\" ] && exit 0
    [ ! -f /etc/datadog-agent/datadog.yaml ] || python3 -c 'import yaml,sys; yaml.safe_load(open(sys.argv[1]))' /etc/datadog-agent/datadog.yaml 2>/dev/null || exit 0
    sleep 0.1
  done
  echo 'the stand-in Agent did not start' >&2; exit 1
"
