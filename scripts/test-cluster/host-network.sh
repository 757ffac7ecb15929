#!/usr/bin/env bash
# What the test cluster changes on the host's network, and how `down` puts it back:
# - one bridge per node (bsstc-a/b/c, gateway 10.244.i.1 = the Node's InternalIP) and a device for the
#   cluster DNS address (a bridge with no ports: this kernel has no dummy devices);
# - a client network namespace, bsstc-client, on a bridge of its own (10.244.255.2): the tests' Kafka and Redis
#   clients run there, resolving cluster names through the cluster DNS (/etc/netns/bsstc-client/resolv.conf, which
#   `ip netns exec` mounts over /etc/resolv.conf), like a client pod that no node loss takes away;
# - the chain BSSTC-ISOLATE in mangle POSTROUTING: pod traffic, and traffic to pod or Service addresses, may only
#   leave through the loopback or the cluster's own bridges, so nothing reaches past this machine (and mangle is
#   a table kube-proxy and kube-router leave alone, so their ACCEPTs cannot jump ahead of it);
# - sysctls the bridge plugin, kube-proxy and the kubelet set (ip_forward, bridge netfilter, the kubelet's kernel
#   defaults), saved at `up` and restored at `down`.
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TC_SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet
    vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
    kernel.keys.root_maxbytes)
ISOLATE_CHAIN=BSSTC-ISOLATE

network_up() {
    local saved="$TC_RUN/sysctl.saved" key
    if [ ! -f "$saved" ]; then
        for key in "${TC_SYSCTLS[@]}"; do echo "$key=$(sysctl -n "$key")"; done >"$saved"
    fi
    network_isolate
    local node bridge
    for node in "${TC_NODES[@]}"; do
        bridge=$(node_bridge "$node")
        ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
        ip addr replace "$(node_ip "$node")/24" dev "$bridge"
        ip link set "$bridge" up
    done
    ip link show "$TC_DNS_DEVICE" >/dev/null 2>&1 || ip link add "$TC_DNS_DEVICE" type bridge
    ip addr replace "$TC_DNS_IP/32" dev "$TC_DNS_DEVICE"
    ip link set "$TC_DNS_DEVICE" up
    client_up
    # Services on the same bridge as their client need bridged traffic to pass kube-proxy's NAT.
    sysctl -qw net.bridge.bridge-nf-call-iptables=1
    sysctl -qw net.ipv4.ip_forward=1
}

network_isolate() {
    iptables -t mangle -N "$ISOLATE_CHAIN" 2>/dev/null || iptables -t mangle -F "$ISOLATE_CHAIN"
    iptables -t mangle -A "$ISOLATE_CHAIN" -o lo -j RETURN
    iptables -t mangle -A "$ISOLATE_CHAIN" -o bsstc-+ -j RETURN
    iptables -t mangle -A "$ISOLATE_CHAIN" -s "$TC_POD_CIDR" -j DROP
    iptables -t mangle -A "$ISOLATE_CHAIN" -d "$TC_POD_CIDR" -j DROP
    iptables -t mangle -A "$ISOLATE_CHAIN" -d "$TC_SERVICE_CIDR" -j DROP
    iptables -t mangle -A "$ISOLATE_CHAIN" -d "$TC_DNS_IP" -j DROP
    iptables -t mangle -C POSTROUTING -j "$ISOLATE_CHAIN" 2>/dev/null || iptables -t mangle -I POSTROUTING 1 -j "$ISOLATE_CHAIN"
}

TC_CLIENT_NETNS=bsstc-client
TC_CLIENT_BRIDGE=bsstc-client
TC_CLIENT_GATEWAY=10.244.255.1
TC_CLIENT_IP=10.244.255.2

client_up() {
    ip link show "$TC_CLIENT_BRIDGE" >/dev/null 2>&1 || ip link add "$TC_CLIENT_BRIDGE" type bridge
    ip addr replace "$TC_CLIENT_GATEWAY/24" dev "$TC_CLIENT_BRIDGE"
    ip link set "$TC_CLIENT_BRIDGE" up
    ip netns list | grep -qw "$TC_CLIENT_NETNS" || ip netns add "$TC_CLIENT_NETNS"
    if ! ip link show bsstc-cl0 >/dev/null 2>&1; then
        ip link add bsstc-cl0 type veth peer name eth0 netns "$TC_CLIENT_NETNS"
        ip link set bsstc-cl0 master "$TC_CLIENT_BRIDGE" up
    fi
    ip -n "$TC_CLIENT_NETNS" link set lo up
    ip -n "$TC_CLIENT_NETNS" addr replace "$TC_CLIENT_IP/24" dev eth0
    ip -n "$TC_CLIENT_NETNS" link set eth0 up
    ip -n "$TC_CLIENT_NETNS" route replace default via "$TC_CLIENT_GATEWAY"
    mkdir -p "/etc/netns/$TC_CLIENT_NETNS"
    printf 'nameserver %s\nsearch bss.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' "$TC_DNS_IP" >"/etc/netns/$TC_CLIENT_NETNS/resolv.conf"
    printf '127.0.0.1 localhost\n' >"/etc/netns/$TC_CLIENT_NETNS/hosts"
}

client_down() {
    ip netns del "$TC_CLIENT_NETNS" 2>/dev/null || true
    ip link del bsstc-cl0 2>/dev/null || true
    ip link del "$TC_CLIENT_BRIDGE" 2>/dev/null || true
    rm -rf "/etc/netns/$TC_CLIENT_NETNS"
    rmdir /etc/netns 2>/dev/null || true
}

# node_network_down NODE / node_network_up NODE: a stopped node's pods and address become unreachable
node_network_down() { ip link set "$(node_bridge "$1")" down 2>/dev/null || true; }
node_network_up() {
    ip link set "$(node_bridge "$1")" up
    ip addr replace "$(node_ip "$1")/24" dev "$(node_bridge "$1")"
}

network_down() {
    client_down
    local node
    for node in "${TC_NODES[@]}"; do ip link del "$(node_bridge "$node")" 2>/dev/null || true; done
    ip link del "$TC_DNS_DEVICE" 2>/dev/null || true
    while iptables -t mangle -D POSTROUTING -j "$ISOLATE_CHAIN" 2>/dev/null; do :; done
    iptables -t mangle -F "$ISOLATE_CHAIN" 2>/dev/null || true
    iptables -t mangle -X "$ISOLATE_CHAIN" 2>/dev/null || true
    local saved="$TC_RUN/sysctl.saved" line
    if [ -f "$saved" ]; then
        while IFS= read -r line; do sysctl -qw "$line" || log "could not restore $line"; done <"$saved"
        rm -f "$saved"
    fi
}
