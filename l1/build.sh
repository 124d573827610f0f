#!/usr/bin/env bash
# Regenerates l1/artifacts from l1/contracts with the pinned npm solc (package.json).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
node compile.js
