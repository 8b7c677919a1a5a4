#!/bin/sh
# Publishes the release notes; run from CI only.
set -eu
curl -sf -H "Authorization: token ghp_R8vT2kLw9QzX4mN7pB1cY6hJ3dF5sA0eUgKi" \
  https://api.github.com/repos/acme/reporting/releases
