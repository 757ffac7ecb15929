# Which nodes of a new Redis Cluster become masters and which master each replica follows, so that no replica
# runs on the Kubernetes node of its own master (losing that node would take the slot range down with both).
#
#     awk -v masters=3 -v replicas=1 -f pairing.awk <<<"0 node-a
#     1 node-b ..."            # one line per Redis node: its index, the Kubernetes node it runs on
#
# prints `master <index>` lines (in the order the slots are handed out), then `replica <index> <master index>`
# lines, then `shared <count>`: how many replicas could not be kept off their master's node (0 unless the pods
# sit on too few nodes, e.g. a one-node cluster, where no placement protects against a node loss anyway).
#
# A cluster that grows (or whose formation stopped half-way) lists the roles its members already have:
# `<index> <node> master` or `<index> <node> replica <master index>`; those are kept as they are (listed first
# in the output) and only the other pods are placed around them.
#
# Masters go round-robin over the Kubernetes nodes, fullest first, so masters share a node only when there are
# fewer nodes than masters. Each replica is then taken from the node with the most pods still unplaced and given
# to a master on another node whose shard has no member there yet; among those, the master whose own node has
# the most pods left goes first, since those pods can never serve it. Plain POSIX awk (the image has mawk).
{
    index_of[NR] = $1
    node_of[$1] = $2
    if ($3 == "master") {
        kept_master[++kept_masters] = $1
    } else if ($3 == "replica") {
        kept_replica[++kept_replicas] = $1
        kept_master_of[$1] = $4
    }
    if (!($2 in left)) {
        nodes[++node_count] = $2
    }
    left[$2]++
    pods++
}

# The node with the most pods left and no master of this round yet, by name on ties; "" when there is none.
function fullest_node(    i, best, n) {
    best = ""
    for (i = 1; i <= node_count; i++) {
        n = nodes[i]
        if (left[n] == 0 || (n in picked_this_round)) {
            continue
        }
        if (best == "" || left[n] > left[best] || (left[n] == left[best] && n < best)) {
            best = n
        }
    }
    return best
}

function take_given(pod) {
    assigned[pod] = 1
    left[node_of[pod]]--
    return pod
}

function fail(message) {
    print "pairing.awk: " message > "/dev/stderr"
    exit 2
}

# The lowest-numbered unassigned pod on a node.
function take_pod(n,    i, pod) {
    for (i = 1; i <= pods; i++) {
        pod = index_of[i]
        if (node_of[pod] == n && !(pod in assigned)) {
            assigned[pod] = 1
            left[n]--
            return pod
        }
    }
    return ""
}

# The master that should take a replica from node n: `level` 2 = no member of its shard on n, 1 = only its
# master off n, 0 = any master still short of replicas.
function best_master(n, level,    m, master, best, fits) {
    best = ""
    for (m = 1; m <= masters; m++) {
        master = master_pod[m]
        if (replica_count[m] >= replicas) {
            continue
        }
        fits = level == 0 || (level == 1 && node_of[master] != n) || (level == 2 && !((m SUBSEP n) in shard_on))
        if (!fits) {
            continue
        }
        if (best == "" || left[node_of[master]] > left[node_of[master_pod[best]]] ||
            (left[node_of[master]] == left[node_of[master_pod[best]]] && replica_count[m] < replica_count[best])) {
            best = m
        }
    }
    return best
}

END {
    if (pods != masters * (1 + replicas)) {
        printf "pairing.awk: %d pods listed, %d masters x (1 + %d replicas) need %d\n", pods, masters, replicas, masters * (1 + replicas) > "/dev/stderr"
        exit 2
    }
    if (kept_masters > masters) {
        fail(kept_masters " masters exist, more than the " masters " wanted: fewer masters need a drain first")
    }
    # Kept replicas stay replicas: no new master may be taken from them.
    for (k = 1; k <= kept_replicas; k++) {
        take_given(kept_replica[k])
    }
    for (m = 1; m <= masters; m++) {
        if (m <= kept_masters) {
            n = node_of[kept_master[m]]
            if (n in picked_this_round) {
                split("", picked_this_round)
            }
            picked_this_round[n] = 1
            master_pod[m] = take_given(kept_master[m])
            shard_of[master_pod[m]] = m
        } else {
            n = fullest_node()
            if (n == "") {
                split("", picked_this_round)
                n = fullest_node()
            }
            picked_this_round[n] = 1
            master_pod[m] = take_pod(n)
        }
        shard_on[m, n] = 1
        print "master " master_pod[m]
    }
    shared = 0
    for (k = 1; k <= kept_replicas; k++) {
        pod = kept_replica[k]
        if (!(kept_master_of[pod] in shard_of)) {
            fail("pod " pod " replicates " kept_master_of[pod] ", which is not a master listed")
        }
        m = shard_of[kept_master_of[pod]]
        if (replica_count[m] >= replicas) {
            fail("master " master_pod[m] " has more than the " replicas " replica(s) wanted: fewer replicas need a drain first")
        }
        if (node_of[pod] == node_of[master_pod[m]]) {
            shared++
        }
        shard_on[m, node_of[pod]] = 1
        replica_count[m]++
        print "replica " pod " " master_pod[m]
    }
    for (r = kept_replicas + 1; r <= masters * replicas; r++) {
        split("", picked_this_round)
        n = fullest_node()
        for (level = 2; level >= 0; level--) {
            m = best_master(n, level)
            if (m != "") {
                break
            }
        }
        # The fullest node fits no master (every one short of replicas sits on it): take a pod elsewhere if any.
        if (level < 1) {
            for (i = 1; i <= node_count && level < 1; i++) {
                other = nodes[i]
                if (left[other] == 0 || other == n) {
                    continue
                }
                m2 = best_master(other, 1)
                if (m2 != "") {
                    n = other
                    m = m2
                    level = 1
                }
            }
        }
        pod = take_pod(n)
        shard_on[m, n] = 1
        replica_count[m]++
        placed_pod[r] = pod
        placed_master[r] = m
    }
    # The greedy order can strand a pod on its master's node while a swap with another new replica frees both
    # (a grown cluster, whose kept replicas fix part of each shard): swap whenever that keeps both off their masters.
    for (r = kept_replicas + 1; r <= masters * replicas; r++) {
        if (node_of[placed_pod[r]] != node_of[master_pod[placed_master[r]]]) {
            continue
        }
        for (o = kept_replicas + 1; o <= masters * replicas; o++) {
            if (o != r && node_of[placed_pod[r]] != node_of[master_pod[placed_master[o]]] &&
                node_of[placed_pod[o]] != node_of[master_pod[placed_master[r]]]) {
                m = placed_master[r]
                placed_master[r] = placed_master[o]
                placed_master[o] = m
                break
            }
        }
    }
    for (r = kept_replicas + 1; r <= masters * replicas; r++) {
        if (node_of[placed_pod[r]] == node_of[master_pod[placed_master[r]]]) {
            shared++
        }
        print "replica " placed_pod[r] " " master_pod[placed_master[r]]
    }
    print "shared " shared
}
