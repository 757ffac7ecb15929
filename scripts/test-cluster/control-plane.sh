#!/usr/bin/env bash
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler on the loopback, plus the cluster services that
# run on the host: kube-proxy (one for the host's network namespace, which the three nodes share), CoreDNS (no
# forwarding: only cluster names resolve) and the local-path provisioner.
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

control_plane_up() {
    start_process etcd "$TC_BIN/etcd" --name bss-test --data-dir "$TC_RUN/etcd" \
        --listen-client-urls "http://127.0.0.1:$TC_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$TC_ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$TC_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$TC_ETCD_PEER_PORT" \
        --initial-cluster "bss-test=http://127.0.0.1:$TC_ETCD_PEER_PORT" --listen-metrics-urls "" \
        --quota-backend-bytes $((2 * 1024 * 1024 * 1024)) --log-level warn
    start_process kube-apiserver "$TC_BIN/kube-apiserver" \
        --etcd-servers "http://127.0.0.1:$TC_ETCD_PORT" \
        --bind-address 127.0.0.1 --secure-port "$TC_API_PORT" \
        --tls-cert-file "$TC_PKI/apiserver.crt" --tls-private-key-file "$TC_PKI/apiserver.key" \
        --client-ca-file "$TC_PKI/ca.crt" --token-auth-file "$TC_PKI/tokens.csv" \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-account-key-file "$TC_PKI/sa.pub" --service-account-signing-key-file "$TC_PKI/sa.key" \
        --service-cluster-ip-range "$TC_SERVICE_CIDR" \
        --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
        --feature-gates PodTopologyLabelsAdmission=true \
        --kubelet-preferred-address-types InternalIP \
        --kubelet-client-certificate "$TC_PKI/kubelet-client.crt" --kubelet-client-key "$TC_PKI/kubelet-client.key" \
        --endpoint-reconciler-type none --allow-privileged=false --profiling=false
    wait_for 120 "kube-apiserver" kc get --raw /readyz
    start_process kube-controller-manager "$TC_BIN/kube-controller-manager" \
        --kubeconfig "$TC_RUN/controller-manager.kubeconfig" \
        --authentication-kubeconfig "$TC_RUN/controller-manager.kubeconfig" \
        --authorization-kubeconfig "$TC_RUN/controller-manager.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
        --use-service-account-credentials --service-account-private-key-file "$TC_PKI/sa.key" \
        --root-ca-file "$TC_PKI/ca.crt" --cluster-cidr "$TC_POD_CIDR" --allocate-node-cidrs=false \
        --controllers '*,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller' \
        --node-monitor-grace-period 20s --profiling=false
    start_process kube-scheduler "$TC_BIN/kube-scheduler" \
        --kubeconfig "$TC_RUN/scheduler.kubeconfig" \
        --authentication-kubeconfig "$TC_RUN/scheduler.kubeconfig" \
        --authorization-kubeconfig "$TC_RUN/scheduler.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false --profiling=false
    wait_for 60 "the default ServiceAccount" kc -n default get serviceaccount default
    kc apply --server-side --field-manager bss-test-cluster -f "$(dirname "${BASH_SOURCE[0]}")/cluster-objects.yaml" >/dev/null
}

services_up() {
    cat >"$TC_RUN/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: { kubeconfig: $TC_RUN/kube-proxy.kubeconfig }
hostnameOverride: ${TC_NODES[0]}
clusterCIDR: $TC_POD_CIDR
# NodePorts on the Nodes' addresses only; the kind-like port maps (port-map.ts) forward 127.0.0.1 to them.
nodePortAddresses: ["$TC_POD_CIDR"]
iptables: { localhostNodePorts: false }
# 0: leave the host's conntrack settings as they are.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
    start_process kube-proxy "$TC_BIN/kube-proxy" --config "$TC_RUN/kube-proxy.yaml"

    cat >"$TC_RUN/Corefile" <<COREFILE
.:53 {
    bind $TC_DNS_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $TC_RUN/coredns.kubeconfig bss-test
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
}
COREFILE
    start_process coredns "$TC_BIN/coredns" -conf "$TC_RUN/Corefile"
    start_process local-path "$(dirname "${BASH_SOURCE[0]}")/local-path-provisioner.sh"
    start_process port-map node "$TC_ROOT/node_modules/ts-node/dist/bin.js" --transpile-only \
        "$(dirname "${BASH_SOURCE[0]}")/port-map.ts" "$TC_ROOT/kind/cluster.yaml" "$(node_ip "${TC_NODES[0]}")"
}

services_down() {
    local name
    for name in port-map local-path coredns kube-proxy; do stop_process "$name"; done
    # kube-proxy's own cleanup removes every rule and chain it programmed.
    if [ -x "$TC_BIN/kube-proxy" ]; then "$TC_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
}

control_plane_down() {
    local name
    for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_process "$name"; done
}
