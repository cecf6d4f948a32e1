# Shared helpers for the idempotent setup scripts that the test command runs (sourced, not executed).
# apt_install installs Debian packages that are missing, running `apt-get update` once per run.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "setup: need root to install: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
    return 1
  fi
  if [ ! -f /tmp/.chapter-telemetry-apt-updated ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && touch /tmp/.chapter-telemetry-apt-updated
  fi
  echo "setup: apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
