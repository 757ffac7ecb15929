# The rebalance Job's layout of the declared topics (the only implementation; tests/kafka/layout.test.ts runs it
# over many broker and rack shapes). Written for any POSIX awk (mawk in the test image, BusyBox awk in apache/kafka).
#
# Input, in any order and any number of files, recognised line by line:
#   topic NAME PARTITIONS RF                  the declared topics (the Job's ConfigMap)
#   ... (id: N rack: R) ...                   kafka-broker-api-versions output: the brokers and their broker.rack
#   Topic: T<TAB>Partition: P<TAB>...Replicas: a,b,c...   kafka-topics --describe output: the current assignment
# Output: kafka-reassign-partitions' JSON for every declared partition; with -v summary=FILE one line about it there.
#
# The rules, in order:
#   1. racks: each rack holds floor(RF/racks) or ceil(RF/racks) of a partition's replicas (never more than it has
#      brokers), so a partition spans min(RF, racks) racks; a broker without a rack makes the layout rack-unaware;
#   2. replicas per broker as even as rule 1 allows, then preferred leaders (the first replica) as even as the
#      replica sets allow, each topic spread over the brokers where a choice is left;
#   3. as little movement as that allows: a current replica stays where rule 1 lets it, and only the moves that
#      make a broker's count more even are made, so a layout that keeps the rules comes back unchanged (a second
#      run of the Job moves nothing). Every tie is broken by broker id, topic name and partition: the same input
#      always gives the same layout.
# Balancing follows augmenting paths (broker u gives a replica to w, w one to v, ...): a load vector no path can
# improve is the most even one, since the layouts' load vectors form an M-convex set.

function fail(message) {
    print "layout: " message > "/dev/stderr"
    failed = 1
    exit 1
}

function min(a, b) { return a < b ? a : b }

$1 == "topic" {
    if (NF != 4 || $3 !~ /^[0-9]+$/ || $4 !~ /^[1-9][0-9]*$/) {
        fail("bad declared topic line: " $0)
    }
    if ($2 in topicIndex) {
        fail("topic " $2 " declared twice")
    }
    topics++
    topicName[topics] = $2 ""
    topicPartitions[topics] = $3 + 0
    topicRf[topics] = $4 + 0
    topicIndex[$2] = topics
    next
}

match($0, /\(id: [0-9]+ rack: [^)]*\)/) {
    split(substr($0, RSTART + 5, RLENGTH - 6), field, " ")
    if (!((field[1] + 0) in brokerIndex)) {
        brokers++
        brokerId[brokers] = field[1] + 0
        brokerRack[brokers] = field[3] ""
        brokerIndex[field[1] + 0] = brokers
    }
    next
}

/Partition: [0-9]/ {
    described = ""
    describedPartition = ""
    replicaList = ""
    parts = split($0, part, "\t")
    for (i = 1; i <= parts; i++) {
        sub(/^ +/, "", part[i])
        sub(/ +$/, "", part[i])
        if (part[i] ~ /^Topic: /) described = substr(part[i], 8)
        else if (part[i] ~ /^Partition: /) describedPartition = substr(part[i], 12) + 0
        else if (part[i] ~ /^Replicas: /) replicaList = substr(part[i], 11)
    }
    if (described != "" && describedPartition != "") {
        current[described SUBSEP describedPartition] = replicaList
    }
}

function quota(rf,    r, sum) {
    if (rf in quotaDone) return
    quotaDone[rf] = 1
    sum = 0
    for (r = 1; r <= racks; r++) {
        lo[rf, r] = min(int(rf / racks), rackBrokers[r])
        hi[rf, r] = min(int((rf + racks - 1) / racks), rackBrokers[r])
        sum += hi[rf, r]
    }
    # Racks too small to take their even share: each takes what it has brokers for.
    if (sum < rf) for (r = 1; r <= racks; r++) hi[rf, r] = rackBrokers[r]
}

function add(q, b) {
    size[q]++
    replica[q, size[q]] = b
    on[q, b] = 1
    rackCount[q, rackOf[b]]++
    load[b]++
    topicLoad[partitionTopic[q], b]++
}

function removeAt(q, s,    b, t) {
    b = replica[q, s]
    for (t = s; t < size[q]; t++) replica[q, t] = replica[q, t + 1]
    delete replica[q, size[q]]
    size[q]--
    delete on[q, b]
    rackCount[q, rackOf[b]]--
    load[b]--
    topicLoad[partitionTopic[q], b]--
}

function position(q, b,    s) {
    for (s = 1; s <= size[q]; s++) if (replica[q, s] == b) return s
    return 0
}

# Partition q may trade its replica on broker a for one on b without breaking rule 1.
function mayMove(q, a, b,    rf) {
    if (!on[q, a] || on[q, b]) return 0
    if (rackOf[a] == rackOf[b]) return 1
    rf = partitionRf[q]
    return rackCount[q, rackOf[a]] > lo[rf, rackOf[a]] && rackCount[q, rackOf[b]] < hi[rf, rackOf[b]]
}

# Replaces broker a by b in place in q's replica list (b takes a's position, so leadership with it).
function move(q, a, b,    s) {
    s = position(q, a)
    replica[q, s] = b
    delete on[q, a]
    on[q, b] = 1
    rackCount[q, rackOf[a]]--
    rackCount[q, rackOf[b]]++
    load[a]--
    load[b]++
    topicLoad[partitionTopic[q], a]--
    topicLoad[partitionTopic[q], b]++
    if (s == 1) {
        leaders[a]--
        leaders[b]++
        topicLeaders[partitionTopic[q], a]--
        topicLeaders[partitionTopic[q], b]++
    }
}

# Makes q's replica on broker b its preferred leader (the leader's replica takes b's place).
function lead(q, b,    s, a) {
    s = position(q, b)
    a = replica[q, 1]
    replica[q, 1] = b
    replica[q, s] = a
    leaders[a]--
    leaders[b]++
    topicLeaders[partitionTopic[q], a]--
    topicLeaders[partitionTopic[q], b]++
}

# Broker indexes by count descending, then id: sources[1..brokers].
function orderByCount(count,    i, j, b) {
    for (i = 1; i <= brokers; i++) {
        b = i
        for (j = i - 1; j >= 1 && count[sources[j]] < count[b]; j--) sources[j + 1] = sources[j]
        sources[j + 1] = b
    }
}

# One augmenting path of replica moves (leaderPhase 0) or leadership moves (1) from the fullest broker that has
# one to a broker holding at least two fewer, found breadth-first (shortest) and applied. 1 when applied.
function improve(leaderPhase,    lowest, i, u, head, tail, x, q, w, gain, best, bestGain, steps, v, s, undone) {
    if (leaderPhase) orderByCount(leaders)
    else orderByCount(load)
    lowest = leaderPhase ? leaders[sources[brokers]] : load[sources[brokers]]
    for (i = 1; i <= brokers; i++) {
        u = sources[i]
        if ((leaderPhase ? leaders[u] : load[u]) - lowest < 2) return 0
        split("", seen)
        split("", queue)
        seen[u] = 1
        head = 1
        tail = 1
        queue[1] = u
        while (head <= tail) {
            x = queue[head++]
            split("", best)
            split("", bestGain)
            for (q = 1; q <= partitions; q++) {
                if (leaderPhase ? replica[q, 1] != x : !on[q, x]) continue
                for (w = 1; w <= brokers; w++) {
                    if (w in seen) continue
                    if (leaderPhase ? (!on[q, w]) : !mayMove(q, x, w)) continue
                    gain = leaderPhase ? topicLeaders[partitionTopic[q], x] - topicLeaders[partitionTopic[q], w] \
                                       : topicLoad[partitionTopic[q], x] - topicLoad[partitionTopic[q], w]
                    if (!(w in best) || gain > bestGain[w]) {
                        best[w] = q
                        bestGain[w] = gain
                    }
                }
            }
            for (w = 1; w <= brokers; w++) {
                if (!(w in best)) continue
                seen[w] = 1
                from[w] = x
                via[w] = best[w]
                if ((leaderPhase ? leaders[w] : load[w]) <= (leaderPhase ? leaders[u] : load[u]) - 2) {
                    steps = 0
                    for (v = w; v != u; v = from[v]) {
                        steps++
                        stepPartition[steps] = via[v]
                        stepFrom[steps] = from[v]
                        stepTo[steps] = v
                    }
                    # A partition on two steps of one path may no longer allow its second move: undo and try on.
                    undone = 0
                    for (s = steps; s >= 1; s--) {
                        if (leaderPhase ? (replica[stepPartition[s], 1] != stepFrom[s] || !on[stepPartition[s], stepTo[s]]) \
                                        : !mayMove(stepPartition[s], stepFrom[s], stepTo[s])) {
                            undone = 1
                            break
                        }
                        if (leaderPhase) lead(stepPartition[s], stepTo[s])
                        else move(stepPartition[s], stepFrom[s], stepTo[s])
                    }
                    if (!undone) return 1
                    for (s = s + 1; s <= steps; s++) {
                        if (leaderPhase) lead(stepPartition[s], stepFrom[s])
                        else move(stepPartition[s], stepTo[s], stepFrom[s])
                    }
                    head = tail + 1
                    break
                }
                queue[++tail] = w
            }
        }
    }
    return 0
}

END {
    if (failed) exit 1
    if (brokers == 0) fail("no broker in the input (expected kafka-broker-api-versions lines \"(id: N rack: R)\")")
    for (i = 2; i <= brokers; i++) {
        id = brokerId[i]
        rack = brokerRack[i]
        for (j = i - 1; j >= 1 && brokerId[j] > id; j--) {
            brokerId[j + 1] = brokerId[j]
            brokerRack[j + 1] = brokerRack[j]
        }
        brokerId[j + 1] = id
        brokerRack[j + 1] = rack
    }
    unracked = ""
    for (b = 1; b <= brokers; b++) if (brokerRack[b] == "null" || brokerRack[b] == "") unracked = unracked (unracked == "" ? "" : ",") brokerId[b]
    racks = 0
    for (b = 1; b <= brokers; b++) {
        rack = unracked == "" ? brokerRack[b] : "none"
        if (!(rack in rackIndex)) {
            racks++
            rackName[racks] = rack
            rackIndex[rack] = racks
        }
    }
    for (i = 2; i <= racks; i++) {
        rack = rackName[i]
        for (j = i - 1; j >= 1 && rackName[j] > rack; j--) rackName[j + 1] = rackName[j]
        rackName[j + 1] = rack
    }
    for (r = 1; r <= racks; r++) rackIndex[rackName[r]] = r
    for (b = 1; b <= brokers; b++) brokerIndex[brokerId[b]] = b
    for (b = 1; b <= brokers; b++) {
        rackOf[b] = rackIndex[unracked == "" ? brokerRack[b] : "none"]
        rackBrokers[rackOf[b]]++
        load[b] = 0
        leaders[b] = 0
    }

    for (i = 2; i <= topics; i++) {
        name = topicName[i]
        count = topicPartitions[i]
        rf = topicRf[i]
        for (j = i - 1; j >= 1 && topicName[j] > name; j--) {
            topicName[j + 1] = topicName[j]
            topicPartitions[j + 1] = topicPartitions[j]
            topicRf[j + 1] = topicRf[j]
        }
        topicName[j + 1] = name
        topicPartitions[j + 1] = count
        topicRf[j + 1] = rf
    }
    ids = ""
    for (b = 1; b <= brokers; b++) ids = ids (b > 1 ? "," : "") brokerId[b]
    tooWide = ""
    for (t = 1; t <= topics; t++) if (topicRf[t] > brokers) tooWide = tooWide (tooWide == "" ? "" : ", ") topicName[t] " (RF " topicRf[t] ")"
    if (tooWide != "") fail("cannot place " tooWide " on " brokers " broker(s) " ids)

    partitions = 0
    for (t = 1; t <= topics; t++) {
        quota(topicRf[t])
        for (p = 0; p < topicPartitions[t]; p++) {
            partitions++
            partitionTopic[partitions] = t
            partitionNumber[partitions] = p
            partitionRf[partitions] = topicRf[t]
            size[partitions] = 0
        }
    }

    # Rule 3: the current replicas that rule 1 allows, in their order; then the missing ones, each on the broker
    # of a rack still short of its share (else any rack with room) holding the fewest of this topic's replicas,
    # then the fewest overall, ties going round the brokers from a point that moves on with every partition.
    turn = 0
    for (q = 1; q <= partitions; q++) {
        rf = partitionRf[q]
        key = topicName[partitionTopic[q]] SUBSEP partitionNumber[q]
        if (key in current) {
            listed = split(current[key], list, ",")
            for (s = 1; s <= listed; s++) {
                if (list[s] !~ /^[0-9]+$/ || !((list[s] + 0) in brokerIndex)) continue
                b = brokerIndex[list[s] + 0]
                if (size[q] < rf && !on[q, b] && rackCount[q, rackOf[b]] < hi[rf, rackOf[b]]) add(q, b)
            }
        }
        for (;;) {
            short = 0
            for (r = 1; r <= racks; r++) if (rackCount[q, r] < lo[rf, r]) short += lo[rf, r] - rackCount[q, r]
            if (short == 0 || size[q] < rf) break
            for (s = size[q]; s >= 1 && rackCount[q, rackOf[replica[q, s]]] <= lo[rf, rackOf[replica[q, s]]]; s--) ;
            if (s < 1) fail("no replica of " key " to give up for a rack short of its share")
            removeAt(q, s)
        }
        while (size[q] < rf) {
            short = 0
            for (r = 1; r <= racks; r++) if (rackCount[q, r] < lo[rf, r]) short = 1
            chosen = 0
            for (c = 0; c < brokers; c++) {
                b = (turn + c) % brokers + 1
                if (on[q, b] || rackCount[q, rackOf[b]] >= hi[rf, rackOf[b]]) continue
                if (short && rackCount[q, rackOf[b]] >= lo[rf, rackOf[b]]) continue
                if (!chosen || topicLoad[partitionTopic[q], b] < topicLoad[partitionTopic[q], chosen] \
                    || (topicLoad[partitionTopic[q], b] == topicLoad[partitionTopic[q], chosen] && load[b] < load[chosen])) chosen = b
            }
            add(q, chosen)
        }
        turn = (turn + 1) % brokers
        leaders[replica[q, 1]]++
        topicLeaders[partitionTopic[q], replica[q, 1]]++
    }
    while (improve(0)) replicaPaths++
    while (improve(1)) leaderPaths++

    printf "{\"version\":1,\"partitions\":["
    for (q = 1; q <= partitions; q++) {
        printf "%s{\"topic\":\"%s\",\"partition\":%d,\"replicas\":[", (q > 1 ? "," : ""), topicName[partitionTopic[q]], partitionNumber[q]
        for (s = 1; s <= size[q]; s++) printf "%s%d", (s > 1 ? "," : ""), brokerId[replica[q, s]]
        printf "]}"
    }
    print "]}"

    if (summary != "") {
        line = partitions " partition(s) on " brokers " broker(s)"
        if (unracked != "") line = line ", rack-unaware (no broker.rack on broker(s) " unracked ")"
        else {
            line = line " in " racks " rack(s)"
            for (r = 1; r <= racks; r++) {
                members = ""
                for (b = 1; b <= brokers; b++) if (rackOf[b] == r) members = members (members == "" ? "" : ",") brokerId[b]
                line = line " " rackName[r] ":" members
            }
        }
        counts = ""
        for (b = 1; b <= brokers; b++) counts = counts (b > 1 ? " " : "") brokerId[b] ":" load[b] "/" leaders[b]
        moved = 0
        total = 0
        for (q = 1; q <= partitions; q++) {
            key = topicName[partitionTopic[q]] SUBSEP partitionNumber[q]
            split("", was)
            if (key in current) {
                listed = split(current[key], list, ",")
                for (s = 1; s <= listed; s++) was[list[s] + 0] = 1
            }
            for (s = 1; s <= size[q]; s++) if (!(brokerId[replica[q, s]] in was)) moved++
            total += size[q]
        }
        print line "; replicas/leaders per broker " counts "; " moved " of " total " replica(s) placed anew" > summary
    }
}
