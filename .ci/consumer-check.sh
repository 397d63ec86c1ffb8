#!/usr/bin/env bash
# The package as a consumer sees it: pack it (prepack builds dist/), install the tarball into a new
# project outside the repository (registry only), run a plain Node ESM program that journals an
# actor and replay it through the installed CLI with --verify, typecheck a strict NodeNext
# TypeScript consumer, and lint the tarball with publint and @arethetypeswrong/cli.
# Prints `== <step>` before each step and, on failure, `consumer check: FAILED at <step>`; exits 1.
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$REPO/node_modules/.bin"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/actorlog-consumer.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
STEP=""

fail() {
  echo "consumer check: FAILED at ${STEP}${1:+: $1}" >&2
  exit 1
}
step() {
  STEP="$1"
  echo "== $STEP"
}
# the version this repository develops against, for the consumer's own copies
dev_version() { node -p "require('$REPO/package.json').devDependencies['$1']"; }

step "pack (prepack: npm run build)"
cd "$REPO" || fail
TARBALL_NAME="$(npm pack --silent --pack-destination "$WORK" | tail -n 1)" || fail "npm pack"
TARBALL="$WORK/$TARBALL_NAME"
[ -f "$TARBALL" ] || fail "no tarball at $TARBALL"
FILES="$(tar -tzf "$TARBALL")" || fail "cannot list $TARBALL"
echo "$TARBALL_NAME: $(wc -l <<<"$FILES") files, $(du -h "$TARBALL" | cut -f1)"
# nothing but the build, the bin, the docs and the package files
if grep -Ev '^package/(dist/|bin/|docs/|README\.md$|LICENSE$|package\.json$)' <<<"$FILES"; then
  fail "the tarball ships files outside dist/, bin/, docs/ (listed above)"
fi
for f in dist/src/index.js dist/src/index.d.ts dist/src/index.js.map dist/cli/main.js bin/actorlog.js LICENSE; do
  grep -qx "package/$f" <<<"$FILES" || fail "the tarball has no $f"
done

step "install the tarball into a new project ($WORK/app)"
mkdir "$WORK/app" && cp "$REPO"/test/consumer/* "$WORK/app/" || fail
cd "$WORK/app" || fail
npm install --no-audit --no-fund --loglevel=error "$TARBALL" "xstate@$(dev_version xstate)" "rxjs@$(dev_version rxjs)" || fail "npm install"
echo "consumer install: $(du -sh node_modules | cut -f1), $(npm ls --all --parseable 2>/dev/null | tail -n +2 | wc -l) packages"

step "node app.mjs (plain ESM, no loader)"
node app.mjs "$WORK/app/order.db" || fail "app.mjs exited $?"

step "npx actorlog replay --verify --machines ./machines.mjs"
out="$(npx --no-install actorlog replay "$WORK/app/order.db" order-1 --verify --machines ./machines.mjs 2>&1)"
code=$?
echo "$out"
[ "$code" -eq 0 ] || fail "exit code $code, expected 0"
grep -q '^verify: OK' <<<"$out" || fail "no 'verify: OK' line"

step "npx actorlog replay --machines ./machines.ts without a loader (a clear error)"
cp machines.mjs machines.ts
out="$(npx --no-install actorlog replay "$WORK/app/order.db" order-1 --machines ./machines.ts 2>&1)"
code=$?
echo "$out"
[ "$code" -eq 2 ] || fail "exit code $code, expected 2"
grep -q -- '--import tsx' <<<"$out" || fail "the error does not say to run with a loader"

step "NODE_OPTIONS='--import tsx' npx actorlog replay --verify --machines ./machines.ts (with a loader)"
npm install --no-audit --no-fund --loglevel=error --save-dev "tsx@$(dev_version tsx)" || fail "npm install"
out="$(NODE_OPTIONS='--import tsx' npx --no-install actorlog replay "$WORK/app/order.db" order-1 --verify --machines ./machines.ts 2>&1)"
code=$?
echo "$out"
[ "$code" -eq 0 ] || fail "exit code $code, expected 0"
grep -q '^verify: OK' <<<"$out" || fail "no 'verify: OK' line"
rm machines.ts

step "the README's usage example (## Use it), unchanged, on the example A2A agent"
node -e '
  const md = require("fs").readFileSync(process.argv[1], "utf8");
  const at = md.indexOf("\n## Use it\n");
  const start = md.indexOf("```ts\n", at);
  const end = md.indexOf("\n```", start + 6);
  if (at < 0 || start < 0 || end < 0) process.exit(1);
  require("fs").writeFileSync("readme-example.ts", md.slice(start + 6, end + 1));
' "$REPO/README.md" || fail "no \`\`\`ts block under '## Use it' in README.md"
# the agent comes from the repository (its @a2a-js/sdk and express are devDependencies there)
(cd "$REPO" && PORT=41241 A2A_STEP_MS=20 exec "$BIN/tsx" examples/a2a-agent-server.ts) > agent.log 2>&1 &
AGENT=$!
for _ in $(seq 1 100); do grep -q 'listening' agent.log && break; kill -0 "$AGENT" 2>/dev/null || break; sleep 0.2; done
grep -q 'listening' agent.log || { cat agent.log; kill "$AGENT" 2>/dev/null; fail "the example agent did not start on 127.0.0.1:41241"; }
out="$(timeout 120 node --import tsx readme-example.ts 2>&1)"
code=$?
kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null
echo "$out"
# it ends as the README says: the job is done, and the last line's send throws ACTOR_STOPPED
grep -q "^done " <<<"$out" || fail "the job did not end in 'done' (exit $code)"
grep -q "ACTOR_STOPPED" <<<"$out" || fail "the last send did not throw ACTOR_STOPPED (exit $code)"
npm uninstall --no-audit --no-fund --loglevel=error tsx || fail "npm uninstall"

step "typecheck a strict NodeNext TypeScript consumer (typescript, @types/node)"
npm install --no-audit --no-fund --loglevel=error --save-dev "typescript@$(dev_version typescript)" "@types/node@$(dev_version @types/node)" || fail "npm install"
node_modules/.bin/tsc -p tsconfig.json || fail "tsc reported errors (an unused @ts-expect-error means a type became any)"
echo '{ "extends": "./tsconfig.json", "files": ["readme-example.ts"] }' > tsconfig.readme.json
node_modules/.bin/tsc -p tsconfig.readme.json || fail "the README's usage example does not typecheck"

step "publint"
"$BIN/publint" run --strict "$TARBALL" || fail

step "@arethetypeswrong/cli"
"$BIN/attw" --profile esm-only --no-definitely-typed "$TARBALL" || fail

STEP=""
echo "consumer check: OK"
