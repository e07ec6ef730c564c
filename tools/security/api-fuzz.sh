#!/usr/bin/env bash
# API fuzzing (issue 6): schemathesis, from PyPI and pinned, against every OpenAPI document the
# all-in-one stack serves, through the gateway, with an access token for each API so that the
# generated requests reach the handlers instead of stopping at 401. Run by tools/security/scan.sh;
# usable alone from the repository root: `bash tools/security/api-fuzz.sh`.
#
# Checks: not_a_server_error, status_code_conformance, content_type_conformance,
# response_schema_conformance. Any failure fails the script; the JUnit and NDJSON reports are kept
# in reports/api-fuzz/. The budget is a fixed number of examples per operation and a fixed seed
# (about two minutes on two cores, inside the five CI allows for it); a per-request timeout
# turns a hung handler into a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
# The same inputs every run, so that a failure in CI reproduces locally with the same command.
SEED="${RAMPART_FUZZ_SEED:-20261129}"
MAX_EXAMPLES="${RAMPART_FUZZ_MAX_EXAMPLES:-100}"
REQUEST_TIMEOUT_SECONDS=10
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance

tools="${RAMPART_TOOLS_DIR:-$HOME/.cache/rampart/security-tools}"
reports="$PWD/reports/api-fuzz"
rm -rf "$reports"
mkdir -p "$tools" "$reports"

st="$tools/schemathesis/bin/st"
if [ ! -x "$st" ] || [ "$("$st" --version)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  python3 -m venv "$tools/schemathesis"
  "$tools/schemathesis/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi
echo "$("$st" --version)"

# Every API: its OpenAPI document, its RFC 8707 resource indicator below the issuer and the
# scopes the bootstrap admin client asks for (all of that API's, as in
# services/identity/src/oidc/resource-servers.ts). The gateway's own document needs no token.
# Identity's document describes SCIM and session administration; the OIDC protocol endpoints
# belong to oidc-provider and are in no document (tools/all-in-one/src/oidc-protocol.e2e-spec.ts
# covers them).
APIS=(
  # name      document                 resource    scopes
  "gateway    /openapi.json            -           -"
  "identity   /oidc/openapi.json       /scim/v2    scim"
  "authz      /authz/openapi.json      /authz      authz.read,authz.write,authz.admin"
  "kms        /kms/openapi.json        /kms        kms.admin,kms.share,kms.use"
  "privacy    /privacy/openapi.json    /privacy    privacy.read,privacy.admin"
  "audit      /audit/openapi.json      /audit      audit:read"
)

# Operations left out, each with its reason (schemathesis --exclude-operation-id).
EXCLUDED_OPERATIONS=(
  # Each call retires a token-signing key (NEXT -> CURRENT -> PREVIOUS -> gone): a few calls in a
  # row would invalidate the access token this run authenticates with, and the rest of the run
  # would only see 401. Covered by the key-management integration tests instead.
  "kms rotateTokenSigningKeys"
)

excluded_flags() {
  local api="$1" entry
  for entry in "${EXCLUDED_OPERATIONS[@]}"; do
    set -- $entry
    [ "$1" = "$api" ] && printf -- '--exclude-operation-id=%s\n' "$2"
  done
  return 0
}

# A fresh installation on free ports, so that a developer's running stack is left alone.
home="$(mktemp -d "${TMPDIR:-/tmp}/rampart-api-fuzz.XXXXXX")"
chmod 755 "$home"
# Seven free ports in a row: the gateway, the five services after it, then PostgreSQL.
base_port="$(python3 - <<'PY'
import socket
for base in range(20000, 60000, 10):
    try:
        sockets = []
        for port in range(base, base + 7):
            s = socket.socket()
            s.bind(("127.0.0.1", port))
            sockets.append(s)
    except OSError:
        continue
    finally:
        for s in sockets:
            s.close()
    print(base)
    break
PY
)"
gateway="http://localhost:$base_port"

stack_pid=
cleanup() {
  if [ -n "$stack_pid" ] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -TERM "$stack_pid"
    wait "$stack_pid" 2>/dev/null || true
  fi
  rm -rf "$home"
}
trap cleanup EXIT

if ! npx nx run all-in-one:build --output-style=static >"$reports/build.log" 2>&1; then
  cat "$reports/build.log" >&2
  exit 1
fi
echo "all-in-one: starting at $gateway (home $home)"
# The fuzzer sends about 10,000 requests a run from one address: quotas far above that, so it
# reaches the handlers (the limits themselves are tested in services/gateway/src/rate-limits).
for limit in DEFAULT BEARER SIGN_IN TOKEN REGISTRATION RECOVERY; do
  export "GATEWAY_RATE_LIMIT_$limit=1000000/1m"
done
RAMPART_HOME="$home" RAMPART_PORT="$base_port" RAMPART_POSTGRES_PORT="$((base_port + 6))" \
  node tools/all-in-one/dist/main.js >"$reports/all-in-one.log" 2>&1 &
stack_pid=$!
ready() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
    "$gateway/readyz" 2>/dev/null
}
for _ in $(seq 1 120); do
  if ready; then break; fi
  if ! kill -0 "$stack_pid" 2>/dev/null; then
    echo "all-in-one exited while starting:" >&2
    cat "$reports/all-in-one.log" >&2
    exit 1
  fi
  sleep 1
done
ready || { echo "all-in-one not ready after 120 s" >&2; exit 1; }

# Client credentials of the bootstrap admin client for one API (the token lives up to 10 minutes,
# longer than one API's run).
access_token() {
  python3 - "$home/bootstrap.json" "$gateway" "$1" "$2" <<'PY'
import base64, json, sys, urllib.parse, urllib.request
bootstrap_file, issuer, resource, scopes = sys.argv[1:]
client = json.load(open(bootstrap_file))["adminClient"]
basic = ":".join(urllib.parse.quote(client[k], safe="") for k in ("client_id", "client_secret"))
request = urllib.request.Request(
    f"{issuer}/oidc/token",
    data=urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "resource": issuer + resource,
        "scope": scopes.replace(",", " "),
    }).encode(),
    headers={"authorization": "Basic " + base64.b64encode(basic.encode()).decode()},
)
print(json.load(urllib.request.urlopen(request))["access_token"])
PY
}

# kms.admin manages keys but may not use them (separation of duties, key-policy.ts): without a
# binding every encrypt, sign or data-key request would stop at 403. The run's own token grants
# the use operations to its kms.use scope on the rings fuzzed keys live in, as an administrator
# would.
grant_key_use() {
  python3 - "$gateway" "$1" <<'PY'
import json, sys, urllib.request
gateway, token = sys.argv[1:]
use = ["encrypt", "decrypt", "rewrap", "generateDataKey", "sign", "verify", "mac", "verifyMac"]
for ring, operations in (("default", use), ("subjects", use + ["destroyNow"])):
    request = urllib.request.Request(
        f"{gateway}/kms/v1/policies/keyRings/{ring}",
        method="PUT",
        data=json.dumps({"bindings": [{"member": "scope:kms.use", "operations": operations}]}).encode(),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    urllib.request.urlopen(request).read()
PY
}

failed=()
started=$SECONDS
for entry in "${APIS[@]}"; do
  read -r name document resource scopes <<<"$entry"
  auth=()
  if [ "$resource" != - ]; then
    token="$(access_token "$resource" "$scopes")"
    auth=(--header "Authorization: Bearer $token")
    if [ "$name" = kms ]; then grant_key_use "$token"; fi
  fi
  mapfile -t excluded < <(excluded_flags "$name")
  echo "schemathesis: $name ($document)"
  api_started=$SECONDS
  # From the reports folder: schemathesis keeps its replay cache (.schemathesis/) in the working
  # directory, so `st replay <id>` works from there.
  if ! (cd "$reports" && "$st" run "$gateway$document" "${auth[@]}" "${excluded[@]}" \
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --request-timeout "$REQUEST_TIMEOUT_SECONDS" --workers 1 --no-color \
    --generation-database none --output-sanitize true \
    --report junit,ndjson \
    --report-junit-path "$reports/$name.junit.xml" --report-ndjson-path "$reports/$name.ndjson" \
    >"$reports/$name.txt" 2>&1); then
    failed+=("$name")
    # What failed and how to reproduce it, in the CI log (the token is filtered from the output).
    sed -n '/^=* \(FAILURES\|ERRORS\) =*$/,/^=* SUMMARY =*$/p' "$reports/$name.txt" | head -n 300
  fi
  sed -n '/^=* SUMMARY =*$/,$p' "$reports/$name.txt"
  echo "schemathesis: $name took $((SECONDS - api_started)) s"
done
echo "schemathesis: all APIs in $((SECONDS - started)) s; reports in reports/api-fuzz/"

if ! kill -0 "$stack_pid" 2>/dev/null; then
  echo "all-in-one died during the run:" >&2
  tail -n 50 "$reports/all-in-one.log" >&2
  exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
  echo "schemathesis found failures in: ${failed[*]} (details in reports/api-fuzz/<api>.txt)" >&2
  exit 1
fi
