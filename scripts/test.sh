#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds, type-checks, lints and runs
# every unit and integration test. `.ci/run` calls exactly this (through `npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the integration tests drive for real (package -> command it provides).
declare -A TOOLS=(
  [openssh-client]=sftp
  [openssh-server]=/usr/sbin/sshd
  [postgresql]=/usr/lib/postgresql
  [mariadb-server]=/usr/sbin/mariadbd
  [curl]=curl
  [wget]=wget
  [lftp]=lftp
  [openssl]=openssl
  [sshpass]=sshpass
  [rsync]=rsync
  [tmux]=tmux
  [unzip]=unzip
  [zsh]=zsh
  [fish]=fish
  [man-db]=man
  [python3-paramiko]=/usr/lib/python3/dist-packages/paramiko
  [litmus]=litmus
  [rclone]=rclone
  [cadaver]=cadaver
  [fail2ban]=fail2ban-regex
  [apache2-utils]=htpasswd
  [chromium]=/usr/bin/chromium
)
missing=()
for pkg in "${!TOOLS[@]}"; do
  t=${TOOLS[$pkg]}
  if [[ $t == /* ]]; then [[ -e $t ]] || missing+=("$pkg"); else command -v "$t" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing test tools: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing test tools; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

[[ -d node_modules ]] || npm ci
npm run --silent build
npm run --silent typecheck
npm run --silent lint
npm run --silent check:api    # src/api/types.gen.ts matches openapi.yaml
npm run --silent check:docs   # completions/ and man/ match the command tree
node scripts/run-tests.mjs all
