#!/usr/bin/env bash
# The real kubectl against `pacsim serve scenarios/supervisor-basic.yaml`:
# apply real manifests, watch pods come up, scale, roll out a new template
# and back, dry runs and diff, field validation, a denial and can-i --list,
# delete, reach the guest cluster with its kubeconfig,
# kill -9 and restart, check
# that everything acknowledged is there, then export and verify the session.
# Run by the test suite (tests/it/kubectl_e2e.rs); by hand:
#   cargo build && scripts/kubectl-e2e.sh
# PACSIM names the binary (default target/debug/pacsim). Fails loudly
# when kubectl is missing: it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBECTL=${KUBECTL:-$(command -v kubectl || true)}
if [[ -z "$KUBECTL" || ! -x "$KUBECTL" ]]; then
    echo "kubectl-e2e: FAIL: kubectl not found (install kubectl 1.32; /usr/bin/kubectl on CI)" >&2
    exit 1
fi
PACSIM=${PACSIM:-target/debug/pacsim}
[[ -x "$PACSIM" ]] || { echo "kubectl-e2e: FAIL: $PACSIM not built" >&2; exit 1; }

WORK=$(mktemp -d)
DATA="$WORK/data"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 17443)
# kubectl caches discovery per host:port under HOME.
export HOME="$WORK/home"
mkdir -p "$HOME"
SERVER_PID=
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { echo "kubectl-e2e: $*"; }
fail() { echo "kubectl-e2e: FAIL: $*" >&2; [[ -f "$WORK/serve.log" ]] && tail -20 "$WORK/serve.log" >&2; exit 1; }

start() {
    # 60 virtual seconds a second: the guest cluster is up in seconds.
    "$PACSIM" serve scenarios/supervisor-basic.yaml --data "$DATA" \
        --listen "127.0.0.1:$PORT" --speed 60 >>"$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        [[ -f "$DATA/kubeconfig-alice.yaml" ]] &&
            "$KUBECTL" --kubeconfig "$DATA/kubeconfig-alice.yaml" get --raw /healthz >/dev/null 2>&1 &&
            return 0
        sleep 0.1
    done
    fail "pacsim serve did not come up"
}

alice() { "$KUBECTL" --kubeconfig "$DATA/kubeconfig-alice.yaml" "$@"; }
carol() { "$KUBECTL" --kubeconfig "$DATA/kubeconfig-carol.yaml" "$@"; }
admin() { "$KUBECTL" --kubeconfig "$DATA/kubeconfig-administrator_vsphere.local.yaml" "$@"; }
guest() { "$KUBECTL" --kubeconfig "$DATA/kubeconfig-alice-web-tkc-small.yaml" "$@"; }
guest_carol() { "$KUBECTL" --kubeconfig "$DATA/kubeconfig-carol-web-tkc-small.yaml" "$@"; }

start
step "server up on port $PORT ($("$KUBECTL" version --client 2>/dev/null | head -1))"

admin apply -f tests/data/e2e-admin/ | tee "$WORK/out"
grep -q "virtualmachineimage.vmoperator.vmware.com/v1.26.5---vmware.2-fips.1-tkg.1 created" "$WORK/out" ||
    fail "the administrator's image was not created"

alice apply -f tests/data/e2e-manifests/ | tee "$WORK/out"
for made in deployment.apps/nginx-deployment virtualmachine.vmoperator.vmware.com/sample-vm \
    persistentvolumeclaim/myclaim service/my-service \
    tanzukubernetescluster.run.tanzu.vmware.com/tkc-small; do
    grep -q "^$made created" "$WORK/out" || fail "$made was not created"
done

step "watching until the Deployment's 2 pods are Running"
timeout 60 "$KUBECTL" --kubeconfig "$DATA/kubeconfig-alice.yaml" get pods -l app=nginx -w --no-headers \
    >"$WORK/watch" 2>&1 &
WATCH=$!
for _ in $(seq 600); do
    [[ $(awk '$3 == "Running" {print $1}' "$WORK/watch" | sort -u | wc -l) -ge 2 ]] && break
    sleep 0.1
done
kill "$WATCH" 2>/dev/null || true
[[ $(awk '$3 == "Running" {print $1}' "$WORK/watch" | sort -u | wc -l) -ge 2 ]] ||
    fail "the watch did not show 2 Running pods: $(cat "$WORK/watch")"

step "scaling to 3 and waiting for the rollout"
alice scale deployment nginx-deployment --replicas=3 | grep -q "deployment.apps/nginx-deployment scaled" ||
    fail "scale"
alice rollout status deployment/nginx-deployment --timeout=60s | tee "$WORK/out"
grep -q 'deployment "nginx-deployment" successfully rolled out' "$WORK/out" || fail "rollout status"
alice wait --for=condition=Available deployment/nginx-deployment --timeout=30s |
    grep -q "deployment.apps/nginx-deployment condition met" || fail "wait Available"
alice get deployment nginx-deployment
[[ $(alice get deployment nginx-deployment --no-headers | awk '{print $2}') == "3/3" ]] || fail "not 3/3 after scale"
# Its ReplicaSet, as kubectl describe finds it.
[[ $(alice get rs -l app=nginx --no-headers | awk '{print $2, $3}') == "3 3" ]] || fail "replicaset not 3 desired, 3 current"
alice describe deployment nginx-deployment | grep -q "NewReplicaSet:   nginx-deployment-" || fail "describe names no ReplicaSet"

step "a new template rolls out through a new ReplicaSet, and rolls back"
alice set resources deployment nginx-deployment --requests=cpu=300m,memory=128Mi |
    grep -q "resource requirements updated" || fail "set resources"
alice rollout status deployment/nginx-deployment --timeout=60s | tee "$WORK/out"
grep -q 'successfully rolled out' "$WORK/out" || fail "rollout status after set resources"
alice rollout history deployment/nginx-deployment | tee "$WORK/out"
[[ $(grep -cE '^[0-9]+ ' "$WORK/out") -eq 2 ]] || fail "rollout history has not 2 revisions"
[[ $(alice get rs -l app=nginx --no-headers | awk '$2 == 3' | wc -l) -eq 1 ]] || fail "not one ReplicaSet of 3"
alice rollout undo deployment/nginx-deployment | grep -q "rolled back" || fail "rollout undo"
alice rollout status deployment/nginx-deployment --timeout=60s | grep -q 'successfully rolled out' ||
    fail "rollout status after undo"
alice rollout history deployment/nginx-deployment | grep -qE '^3 ' || fail "undo made no revision 3"
alice set image deployment/nginx-deployment nginx=nginx:1.25 | grep -q "image updated" || fail "set image"
alice rollout restart deployment/nginx-deployment | grep -q "restarted" || fail "rollout restart"
alice rollout status deployment/nginx-deployment --timeout=60s | grep -q 'successfully rolled out' ||
    fail "rollout status after set image and restart"
[[ $(alice get pods -l app=nginx -o jsonpath='{.items[*].spec.containers[0].image}') == "nginx:1.25 nginx:1.25 nginx:1.25" ]] ||
    fail "the pods do not run nginx:1.25: $(alice get pods -l app=nginx -o wide)"
alice rollout history deployment/nginx-deployment | grep -qE '^5 ' || fail "set image and restart made no revisions 4 and 5"

step "a paused rollout waits for resume; CHANGE-CAUSE follows the annotation"
sets=$(alice get rs -l app=nginx --no-headers | wc -l)
alice rollout pause deployment/nginx-deployment | grep -q "paused" || fail "rollout pause"
if alice rollout pause deployment/nginx-deployment 2>"$WORK/err"; then fail "paused twice"; fi
grep -q "is already paused" "$WORK/err" || fail "second pause: $(cat "$WORK/err")"
alice annotate deployment/nginx-deployment kubernetes.io/change-cause="nginx 1.26" >/dev/null || fail "annotate"
alice set image deployment/nginx-deployment nginx=nginx:1.26 | grep -q "image updated" || fail "set image while paused"
sleep 1
[[ $(alice get rs -l app=nginx --no-headers | wc -l) -eq $sets ]] || fail "a paused Deployment made a ReplicaSet"
[[ $(alice get deployment nginx-deployment -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}') == DeploymentPaused ]] ||
    fail "no DeploymentPaused condition"
# The new template has no pods yet: rollout status waits (until its timeout).
if alice rollout status deployment/nginx-deployment --timeout=2s >"$WORK/out" 2>&1; then
    fail "rollout status of a paused, changed Deployment said it was done: $(cat "$WORK/out")"
fi
grep -q "0 out of 3 new replicas have been updated" "$WORK/out" || fail "paused rollout status: $(cat "$WORK/out")"
alice rollout resume deployment/nginx-deployment | grep -q "resumed" || fail "rollout resume"
alice rollout status deployment/nginx-deployment --timeout=60s | grep -q 'successfully rolled out' ||
    fail "rollout status after resume"
alice rollout history deployment/nginx-deployment | tee "$WORK/out"
grep -qE '^6 +nginx 1.26$' "$WORK/out" || fail "revision 6 has no CHANGE-CAUSE"

step "get all, set-based selectors; field selectors the server cannot honour are refused"
alice get all | tee "$WORK/out"
grep -q "^deployment.apps/nginx-deployment " "$WORK/out" || fail "get all lists no deployment"
[[ $(grep -c "^pod/nginx-deployment-" "$WORK/out") -eq 3 ]] || fail "get all does not list the 3 pods"
[[ $(alice get pods -l 'app in (nginx, other)' --no-headers | wc -l) -eq 3 ]] || fail "set-based selector"
alice get pods -l 'app notin (nginx)' -o name >"$WORK/out" 2>/dev/null || fail "notin selector refused"
if grep -q "nginx-deployment" "$WORK/out"; then fail "notin selected app=nginx pods"; fi
if alice get pods --field-selector status.phase=Pending 2>"$WORK/err"; then fail "status.phase selector accepted"; fi
grep -q "field label not supported: status.phase" "$WORK/err" || fail "field selector: $(cat "$WORK/err")"

step "server-side dry runs and kubectl diff change nothing"
alice scale deployment/nginx-deployment --replicas=5 --dry-run=server | grep -q "scaled (server dry run)" ||
    fail "scale --dry-run=server"
alice delete deployment/nginx-deployment --dry-run=server | grep -q "deleted (server dry run)" ||
    fail "delete --dry-run=server"
[[ $(alice get deployment nginx-deployment -o jsonpath='{.spec.replicas}') -eq 3 ]] || fail "a dry run wrote"
alice get deployment nginx-deployment -o yaml >"$WORK/live.yaml"
alice diff -f "$WORK/live.yaml" >"$WORK/out" || fail "diff of the live object: $(cat "$WORK/out")"
sed 's/^  replicas: 3$/  replicas: 4/' "$WORK/live.yaml" >"$WORK/four.yaml"
if alice diff -f "$WORK/four.yaml" >"$WORK/out"; then fail "diff saw no change"; fi
grep -q "^+  replicas: 4$" "$WORK/out" || fail "diff: $(cat "$WORK/out")"
[[ $(alice get deployment nginx-deployment -o jsonpath='{.spec.replicas}') -eq 3 ]] || fail "diff wrote"

step "kubectl top: pods use what they request, nodes what their hosts allocated"
alice top pod -l app=nginx | tee "$WORK/out"
[[ $(grep -c "^nginx-deployment-" "$WORK/out") -eq 3 ]] || fail "top pod does not list the 3 pods"
admin top node | tee "$WORK/out"
grep -qE "^esx-01 +[0-9]+m +[0-9]+%" "$WORK/out" || fail "top node has no esx-01 row"

step "logs and exec say at once why they are not served"
# One pod's name (not `-o name | head -1`: with pipefail, kubectl may die
# of SIGPIPE when head has its line, and the script with it).
pod=pod/$(alice get pods -l app=nginx -o jsonpath='{.items[0].metadata.name}')
if alice logs "$pod" 2>"$WORK/err"; then fail "kubectl logs succeeded"; fi
grep -q "pods/log is not served" "$WORK/err" || fail "logs: $(cat "$WORK/err")"
if timeout 30 "$KUBECTL" --kubeconfig "$DATA/kubeconfig-alice.yaml" exec "$pod" -- true 2>"$WORK/err"; then
    fail "kubectl exec succeeded"
fi
grep -q "pods/exec is not served" "$WORK/err" || fail "exec: $(cat "$WORK/err")"

step "validation: typos follow --validate, wrong values name their field"
typo_pod() {
    cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: web}
spec:
  nodeSelecter: {}
  containers: [{name: c, image: nginx, resources: {requests: {cpu: $2, memory: 64Mi}}}]
EOF
}
if typo_pod typo-1 100m | alice apply -f - 2>"$WORK/err"; then fail "a typo was accepted under --validate=strict"; fi
grep -q 'unknown field `nodeSelecter`' "$WORK/err" || fail "typo: $(cat "$WORK/err")"
typo_pod typo-1 100m | alice apply --validate=false -f - 2>"$WORK/err" | grep -q "pod/typo-1 created" ||
    fail "--validate=false: $(cat "$WORK/err")"
[[ -s "$WORK/err" ]] && fail "--validate=false warned: $(cat "$WORK/err")"
typo_pod typo-2 100m | alice apply --validate=warn -f - 2>"$WORK/err" >/dev/null || fail "--validate=warn refused"
grep -q 'Warning: unknown field "spec.nodeSelecter"' "$WORK/err" || fail "--validate=warn: $(cat "$WORK/err")"
if typo_pod typo-3 lots | alice apply --validate=false -f - 2>"$WORK/err"; then fail "cpu: lots accepted"; fi
grep -q 'The Pod "typo-3" is invalid: spec.containers\[0\].resources.requests.cpu: ' "$WORK/err" ||
    fail "invalid value: $(cat "$WORK/err")"
alice delete pod typo-1 typo-2 --wait=false >/dev/null

step "carol (view) is refused by the Authentication Proxy"
[[ $(carol auth can-i create pods -n web 2>/dev/null || true) == no* ]] || fail "auth can-i said yes"
carol auth can-i --list -n web | tee "$WORK/out"
grep -qE "^deployments.apps +\[\] +\[\] +\[get list watch\]$" "$WORK/out" || fail "carol's rules"
alice auth can-i --list -n web >"$WORK/out"
grep -qE "^deployments.apps +\[\] +\[\] +\[get list watch create update patch delete\]$" "$WORK/out" ||
    fail "alice's rules: $(cat "$WORK/out")"
if carol -n web delete deployment nginx-deployment 2>"$WORK/err"; then fail "carol deleted"; fi
grep -q "Error from server (Forbidden): deployments \"nginx-deployment\" is forbidden: user carol has role view in namespace web; delete needs edit" "$WORK/err" ||
    fail "denial: $(cat "$WORK/err")"
cat "$WORK/err"

alice delete service my-service | grep -q 'service "my-service" deleted' || fail "delete"

step "the guest cluster tkc-small, through its kubeconfig"
for _ in $(seq 600); do
    [[ $(alice get tkc tkc-small --no-headers | awk '{print $4}') == running ]] && break
    sleep 0.1
done
[[ $(alice get tkc tkc-small --no-headers | awk '{print $4}') == running ]] || fail "tkc-small is not running"
"$PACSIM" kubeconfig --data "$DATA" --guest web/tkc-small --user alice >/dev/null
"$PACSIM" kubeconfig --data "$DATA" --guest web/tkc-small --user carol >/dev/null
guest get nodes | tee "$WORK/nodes"
[[ $(grep -c " Ready " "$WORK/nodes") -eq 3 ]] || fail "the guest has not 3 Ready nodes"
grep -q "^tkc-small-control-plane-0 .* control-plane " "$WORK/nodes" || fail "no control-plane node"
guest apply -f tests/data/e2e-manifests/1-deployment.yaml | grep -q "deployment.apps/nginx-deployment created" ||
    fail "guest apply"
for _ in $(seq 300); do
    [[ $(guest get pods -l app=nginx --no-headers 2>/dev/null | grep -c Running) -eq 2 ]] && break
    sleep 0.1
done
guest get pods -o wide
[[ $(guest get pods -l app=nginx -o wide --no-headers | grep -c " Running .*tkc-small-worker-") -eq 2 ]] ||
    fail "the guest's 2 pods are not Running on its workers"
guest rollout status deployment/nginx-deployment --timeout=30s | grep -q 'successfully rolled out' ||
    fail "guest rollout status: $(guest get deployment nginx-deployment -o wide)"
if guest scale deployment nginx-deployment --replicas=3 --dry-run=server 2>"$WORK/err"; then fail "guest dry run"; fi
grep -q "served on the Supervisor's API, not in a guest cluster" "$WORK/err" || fail "guest dry run: $(cat "$WORK/err")"
if guest_carol delete deployment nginx-deployment 2>"$WORK/err"; then fail "carol deleted in the guest"; fi
grep -q "user carol has role view in namespace web, which is read-only in guest cluster tkc-small; delete needs edit" "$WORK/err" ||
    fail "guest denial: $(cat "$WORK/err")"
cat "$WORK/err"

step "kill -9, restart"
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
start
alice get deployment,vm,pvc,tkc,svc | tee "$WORK/after"
for kept in deployment.apps/nginx-deployment virtualmachine.vmoperator.vmware.com/sample-vm \
    persistentvolumeclaim/myclaim tanzukubernetescluster.run.tanzu.vmware.com/tkc-small; do
    grep -q "^$kept " "$WORK/after" || fail "$kept lost across kill -9"
done
grep -q "my-service" "$WORK/after" && fail "the deleted service is back"
guest get deployment nginx-deployment --no-headers | grep -q "^nginx-deployment " ||
    fail "the guest's Deployment lost across kill -9"
kill "$SERVER_PID"
wait "$SERVER_PID" || fail "SIGTERM did not stop the server cleanly"
SERVER_PID=

step "export the session and replay it byte for byte"
"$PACSIM" export "$DATA" -o "$WORK/session.pstrace" >/dev/null
"$PACSIM" replay "$WORK/session.pstrace" --verify | tee "$WORK/verify"
grep -q "identical" "$WORK/verify" || fail "the replayed session differs"
step "PASS"
