#!/usr/bin/env bash
# Static security checks of the repository (issue 6), run by .ci/run after the tests and usable
# locally from the repository root: `bash tools/security/scan.sh`.
#
#   semgrep   Rampart's own rules (tools/semgrep), their test cases first; from PyPI, pinned,
#             metrics and version checks off, no rules fetched from the registry.
#   gitleaks  secrets in the whole git history; built with `go install`, pinned.
#   SBOM      a CycloneDX 1.6 bill of materials of the production dependencies
#             (@cyclonedx/cyclonedx-npm, pinned in the lock file) in reports/sbom.cdx.json.
#   API fuzz  schemathesis (PyPI, pinned) against every service's OpenAPI document on a running
#             all-in-one stack: no 5xx, responses as documented (tools/security/api-fuzz.sh).
#
# Dependency vulnerability scanning (`npm audit`, osv-scanner) needs a vulnerability database this
# machine cannot reach: see docs/architecture/security.md, "Automated security checks".
set -euo pipefail
cd "$(dirname "$0")/../.."

SEMGREP_VERSION=1.185.0
GITLEAKS_VERSION=v8.30.1
tools="${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/security-tools}"
mkdir -p "$tools" reports

if [ ! -x "$tools/semgrep/bin/semgrep" ] || [ "$("$tools/semgrep/bin/semgrep" --version)" != "$SEMGREP_VERSION" ]; then
  python3 -m venv "$tools/semgrep"
  "$tools/semgrep/bin/pip" install --quiet --disable-pip-version-check "semgrep==$SEMGREP_VERSION"
fi
export SEMGREP_ENABLE_VERSION_CHECK=0 SEMGREP_SEND_METRICS=off
echo "semgrep $("$tools/semgrep/bin/semgrep" --version): rule cases"
"$tools/semgrep/bin/semgrep" --test --metrics=off --disable-version-check tools/semgrep
echo "semgrep: scanning libs, services, tools"
"$tools/semgrep/bin/semgrep" scan --metrics=off --disable-version-check --config tools/semgrep \
  --error --exclude tools/semgrep libs services tools

if ! command -v go >/dev/null; then
  echo "gitleaks needs Go (go install); none on PATH" >&2
  exit 1
fi
if [ ! -x "$tools/bin/gitleaks" ] || ! "$tools/bin/gitleaks" version 2>/dev/null | grep -q "${GITLEAKS_VERSION#v}"; then
  GOBIN="$tools/bin" go install -ldflags "-X=github.com/zricethezav/gitleaks/v8/version.Version=${GITLEAKS_VERSION#v}" \
    "github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION"
fi
echo "gitleaks $("$tools/bin/gitleaks" version): the git history"
"$tools/bin/gitleaks" git --no-banner --redact --exit-code 1 .

echo "SBOM: reports/sbom.cdx.json"
npx --no-install cyclonedx-npm --omit dev --output-format JSON --output-reproducible \
  --output-file reports/sbom.cdx.json
node -e "const s = require('./reports/sbom.cdx.json'); console.log(s.bomFormat, s.specVersion, s.components.length, 'components')"

echo "API fuzzing: schemathesis against the all-in-one stack"
bash tools/security/api-fuzz.sh
