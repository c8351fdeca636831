#!/usr/bin/env bash
# Debian's Chromium for the explorer's browser tests (tests/test_explorer_browser.py), which
# Playwright drives at /usr/bin/chromium: Playwright never downloads a browser here. Installed
# with apt only when missing; where that cannot be done the browser tests skip and say why.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium: /usr/bin/chromium missing and no apt-get; the browser tests will skip" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install_chromium: installing chromium with apt" >&2
{ $sudo apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
    || echo "install_chromium: apt could not install chromium; the browser tests will skip" >&2
