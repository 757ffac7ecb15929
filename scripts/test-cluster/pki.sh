#!/usr/bin/env bash
# Certificates, service-account keys, static tokens and kubeconfigs of the test cluster, made fresh by every `up`.
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Identities: static tokens bound by the API server's default RBAC (kubeadm's users), a node identity per kubelet.
pki_identities() {
    echo "admin kubernetes-admin system:masters"
    echo "controller-manager system:kube-controller-manager -"
    echo "scheduler system:kube-scheduler -"
    echo "kube-proxy system:kube-proxy -"
    echo "coredns bss-test:coredns -"
    echo "network-policy bss-test:network-policy -"
    echo "local-path bss-test:local-path -"
    local node
    for node in "${TC_NODES[@]}"; do echo "$node system:node:$node system:nodes"; done
}

pki_make() {
    mkdir -p "$TC_PKI"
    local days=2
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TC_PKI/ca.key" -out "$TC_PKI/ca.crt" -days "$days" \
        -subj "/CN=bss-test-cluster-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$TC_PKI/apiserver.key" -out "$TC_PKI/apiserver.csr" \
        -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' >"$TC_PKI/apiserver.ext"
    openssl x509 -req -in "$TC_PKI/apiserver.csr" -CA "$TC_PKI/ca.crt" -CAkey "$TC_PKI/ca.key" -CAcreateserial \
        -out "$TC_PKI/apiserver.crt" -days "$days" -extfile "$TC_PKI/apiserver.ext" 2>/dev/null
    # The API server's client certificate towards the kubelets (exec, logs, port-forward).
    openssl req -newkey rsa:2048 -nodes -keyout "$TC_PKI/kubelet-client.key" -out "$TC_PKI/kubelet-client.csr" \
        -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" 2>/dev/null
    openssl x509 -req -in "$TC_PKI/kubelet-client.csr" -CA "$TC_PKI/ca.crt" -CAkey "$TC_PKI/ca.key" -CAcreateserial \
        -out "$TC_PKI/kubelet-client.crt" -days "$days" 2>/dev/null
    openssl genrsa -out "$TC_PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$TC_PKI/sa.key" -pubout -out "$TC_PKI/sa.pub" 2>/dev/null
    chmod 600 "$TC_PKI"/*.key

    : >"$TC_PKI/tokens.csv"
    local name user groups token
    while read -r name user groups; do
        token=$(openssl rand -hex 24)
        if [ "$groups" = "-" ]; then
            echo "$token,$user,$user" >>"$TC_PKI/tokens.csv"
        else
            echo "$token,$user,$user,\"$groups\"" >>"$TC_PKI/tokens.csv"
        fi
        pki_kubeconfig "$name" "$token"
    done < <(pki_identities)
    chmod 600 "$TC_PKI/tokens.csv" "$TC_RUN"/*.kubeconfig
}

# pki_kubeconfig NAME TOKEN: $TC_RUN/NAME.kubeconfig for the identity NAME
pki_kubeconfig() {
    cat >"$TC_RUN/$1.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: bss-test
  cluster:
    server: $TC_API
    certificate-authority: $TC_PKI/ca.crt
users:
- name: $1
  user:
    token: $2
contexts:
- name: bss-test
  context: { cluster: bss-test, user: $1 }
current-context: bss-test
KUBECONFIG
}
