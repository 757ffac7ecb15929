#!/usr/bin/env bash
# One Kubernetes node: its own containerd (root, state, socket), CNI bridge and IP range, cgroup root and kubelet.
# `node_stop` is a node loss: kubelet and containerd killed, every container SIGKILLed, the bridge down (its pods
# and its address stop answering), and the Node turns NotReady once the controller-manager's grace period ends.
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=SCRIPTDIR/host-network.sh
source "$(dirname "${BASH_SOURCE[0]}")/host-network.sh"
# shellcheck source=SCRIPTDIR/images.env
source "$(dirname "${BASH_SOURCE[0]}")/images.env"

CGROUP_SUBSYSTEMS=(cpu cpuacct cpuset memory devices freezer blkio pids systemd)

node_configure() {
    local node="$1" dir i
    dir=$(node_dir "$node")
    i=$(node_index "$node")
    mkdir -p "$dir/cni" "$dir/containerd" "$dir/kubelet" "$dir/logs"
    cat >"$dir/containerd/config.toml" <<TOML
version = 3
root = "$dir/containerd/root"
state = "$dir/containerd/state"

[grpc]
  address = "$dir/containerd.sock"

[plugins.'io.containerd.nri.v1.nri']
  disable = true

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$PAUSE_IMAGE"

[plugins.'io.containerd.cri.v1.runtime']
  # root here lacks CAP_SYS_RESOURCE: never lower a container's oom_score_adj below the runtime's own.
  restrict_oom_score_adj = true
  # Pod network namespaces under this node's state, not the host's /run/netns: a node's containerd is SIGKILLed
  # (node loss, down), so no CNI DEL removes them, and down unmounts what lies under the node's directory.
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["$TC_BIN/cni"]
    conf_dir = "$dir/cni"
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "$TC_BIN/runc"
        SystemdCgroup = false
TOML
    # containerd ignores a key in the wrong section: check the one down depends on took effect (grep reads the whole
    # dump: with -q it could exit first and fail the pipeline with the writer's SIGPIPE).
    "$TC_BIN/containerd" --config "$dir/containerd/config.toml" config dump 2>/dev/null | grep '^ *netns_mounts_under_state_dir = true$' >/dev/null \
        || die "$node: containerd's config does not keep pod network namespaces under the node's state"
    cat >"$dir/cni/10-bss.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "bss-$node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$(node_bridge "$node")",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/ipam",
        "ranges": [[{ "subnet": "$(node_subnet "$node")", "gateway": "$(node_ip "$node")" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
    : >"$dir/resolv.conf"
    cat >"$dir/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(node_ip "$node")
port: 10250
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: false }
  x509: { clientCAFile: $TC_PKI/ca.crt }
authorization: { mode: AlwaysAllow }
cgroupDriver: cgroupfs
cgroupRoot: /bss-$node
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
containerRuntimeEndpoint: unix://$dir/containerd.sock
clusterDomain: cluster.local
clusterDNS: [$TC_DNS_IP]
# Pods inherit no resolver of the host: nothing resolves outside cluster.local.
resolvConf: $dir/resolv.conf
podLogsDir: $dir/logs
failSwapOn: false
imageGCHighThresholdPercent: 100
evictionHard: { memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1% }
serializeImagePulls: false
registerNode: true
YAML
}

node_cgroups() {
    local node="$1" s
    for s in "${CGROUP_SUBSYSTEMS[@]}"; do
        [ -d "/sys/fs/cgroup/$s" ] || continue
        mkdir -p "/sys/fs/cgroup/$s/bss-$node"
        if [ "$s" = cpuset ]; then
            cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/bss-$node/cpuset.cpus"
            cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/bss-$node/cpuset.mems"
        fi
    done
}

node_up() {
    local node="$1" dir
    dir=$(node_dir "$node")
    [ -f "$dir/kubelet.yaml" ] || node_configure "$node"
    node_network_up "$node"
    node_cgroups "$node"
    start_process "$node-containerd" env PATH="$TC_BIN:$PATH" "$TC_BIN/containerd" --config "$dir/containerd/config.toml"
    wait_for 60 "$node's containerd" "$TC_BIN/ctr" --address "$dir/containerd.sock" version
    if [ ! -f "$dir/images.imported" ]; then
        local image
        for image in "$TC_CACHE"/images/*.tar; do
            "$TC_BIN/ctr" --address "$dir/containerd.sock" -n k8s.io images import --local "$image" >/dev/null
        done
        touch "$dir/images.imported"
    fi
    start_process "$node-kubelet" "$TC_BIN/kubelet" --config "$dir/kubelet.yaml" \
        --kubeconfig "$TC_RUN/$node.kubeconfig" --root-dir "$dir/kubelet" \
        --hostname-override "$node" --node-ip "$(node_ip "$node")" \
        --node-labels "topology.kubernetes.io/zone=${TC_ZONES[$(node_index "$node")]}"
}

# Every process of a node: its containers (in its cgroup root) and its runtime's shims.
node_processes() {
    local node="$1" dir
    dir=$(node_dir "$node")
    find "/sys/fs/cgroup/memory/bss-$node" -name cgroup.procs -exec cat {} + 2>/dev/null
    # The pattern comes from a file: on the command line it would be in grep's own cmdline and match grep itself.
    grep -lsFf <(echo "$dir/containerd.sock") /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3
}

node_stop() {
    local node="$1" pid
    stop_process "$node-kubelet" KILL
    stop_process "$node-containerd" KILL
    for pid in $(node_processes "$node"); do kill -KILL "$pid" 2>/dev/null || true; done
    node_network_down "$node"
}

node_down() {
    local node="$1" dir i s
    dir=$(node_dir "$node")
    node_stop "$node"
    for ((i = 0; i < 50; i++)); do
        [ -z "$(node_processes "$node")" ] && break
        sleep 0.1
    done
    # Volume, rootfs and network-namespace mounts of the node's pods, deepest first.
    awk -v prefix="$dir/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r mount; do
        umount -l "$mount" 2>/dev/null || true
    done
    for s in "${CGROUP_SUBSYSTEMS[@]}"; do
        [ -d "/sys/fs/cgroup/$s/bss-$node" ] && find "/sys/fs/cgroup/$s/bss-$node" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    # The kubelet links every container log into /var/log/containers; remove the links into this node.
    find /var/log/containers -maxdepth 1 -type l -lname "$dir/*" -delete 2>/dev/null || true
    return 0
}
