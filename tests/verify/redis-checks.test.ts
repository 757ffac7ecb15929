import { evaluateRedis, parseClusterNodes, parseInfo, Placement, RedisObservation, REDIS_CHECKS } from "../../scripts/verify/redis";

const prod = { masters: 3, replicasPerMaster: 1 };

/** CLUSTER NODES of a formed 3 × 1 cluster as Redis 7 prints it (ip:port@cport, flags, master id, ..., slots). */
const NODES_3X1 = [
    "m0 10.244.1.2:7000@7001 myself,master - 0 0 1 connected 0-5460",
    "m1 10.244.1.3:7000@7001 master - 0 1700000000000 2 connected 5461-10922",
    "m2 10.244.1.4:7000@7001 master - 0 1700000000000 3 connected 10923-16383",
    "r0 10.244.1.5:7000@7001 slave m0 0 1700000000000 1 connected",
    "r1 10.244.1.6:7000@7001 slave m1 0 1700000000000 2 connected",
    "r2 10.244.1.7:7000@7001 slave m2 0 1700000000000 3 connected",
].join("\n");

const INFO_OK = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:6\r\n";

const pods = (nodes: string[]): Placement => new Map([2, 3, 4, 5, 6, 7].map((last, i) => [`10.244.1.${last}`, { pod: `redis-cluster-${i}`, node: nodes[i] }]));

function observation(nodes = NODES_3X1, info = INFO_OK, placement: Placement = pods(["a", "b", "c", "b", "c", "a"])): RedisObservation {
    return { address: "127.0.0.1:7000", info: parseInfo(info), nodes: parseClusterNodes(nodes), placement };
}

const byCheck = (o: RedisObservation, expected = prod) => Object.fromEntries(evaluateRedis(expected, o).map((r) => [r.check, r]));

describe("Redis checks", () => {
    it("parse CLUSTER NODES, hostnames after the bus port included", () => {
        expect(parseClusterNodes("abc 10.0.0.1:7000@7001,redis-0 myself,master - 0 0 1 connected 0-16383")).toEqual([
            { id: "abc", address: "10.0.0.1:7000", flags: ["myself", "master"], masterId: "-", linkState: "connected", slots: ["0-16383"] },
        ]);
    });

    it("pass for a formed 3 × 1 cluster with every replica on another node than its master", () => {
        const rows = evaluateRedis(prod, observation());
        expect(rows.map((r) => r.check)).toEqual(Object.values(REDIS_CHECKS));
        expect(rows.filter((r) => r.status !== "ok")).toEqual([]);
        expect(rows[2].detail).toBe("3 masters, 1 replica each (6 nodes), as declared");
        expect(rows[3].detail).toBe("every master on another Kubernetes node than its replicas (6 pods on 3 nodes)");
    });

    it("pass the dev shape: one master owning every slot, placement trivially fine", () => {
        const rows = byCheck(observation("m0 10.244.1.2:7000@7001 myself,master - 0 0 1 connected 0-16383",
            "cluster_state:ok\ncluster_slots_assigned:16384\ncluster_slots_ok:16384\n", { unknown: "kubectl not found" }), { masters: 1, replicasPerMaster: 0 });
        expect(Object.values(rows).map((r) => r.status)).toEqual(["ok", "ok", "ok", "ok"]);
    });

    it("fail a master that shares a node with its own replica, naming both pods", () => {
        const row = byCheck(observation(NODES_3X1, INFO_OK, pods(["a", "b", "c", "a", "c", "b"])))["replica placement"];
        expect(row).toMatchObject({ status: "fail", detail: "master redis-cluster-0 and its replica redis-cluster-3 both on node a: losing that node loses the shard" });
    });

    it("skip placement, saying why, without kubectl or when a node's pod is unknown", () => {
        expect(byCheck(observation(NODES_3X1, INFO_OK, { unknown: "kubectl get pods failed (kubectl not found)" }))["replica placement"])
            .toMatchObject({ status: "skipped", detail: "placement not checked: kubectl get pods failed (kubectl not found)" });
        const partial = pods(["a", "b", "c", "b", "c", "a"]) as Map<string, { pod: string; node: string }>;
        partial.delete("10.244.1.7");
        expect(byCheck(observation(NODES_3X1, INFO_OK, partial))["replica placement"])
            .toMatchObject({ status: "skipped", detail: expect.stringContaining("10.244.1.7:7000") });
    });

    it("fail the state and slots checks of a cluster that lost slots", () => {
        const rows = byCheck(observation(NODES_3X1, "cluster_state:fail\ncluster_slots_assigned:10923\ncluster_slots_ok:10923\ncluster_slots_pfail:0\ncluster_slots_fail:0\n"));
        expect(rows["cluster state"]).toMatchObject({ status: "fail", detail: "cluster_state:fail (asked 127.0.0.1:7000)" });
        expect(rows["slots covered"]).toMatchObject({ status: "fail", detail: "10923 of 16384 assigned, 10923 ok, 0 pfail, 0 fail" });
    });

    it("fail the shape when a replica failed, a master has no replica, or nodes are missing", () => {
        const failedReplica = NODES_3X1.replace("r1 10.244.1.6:7000@7001 slave m1 0 1700000000000 2 connected", "r1 10.244.1.6:7000@7001 slave,fail m1 0 1700000000000 2 disconnected");
        expect(byCheck(observation(failedReplica))["masters and replicas"]).toMatchObject({
            status: "fail",
            detail: "master 10.244.1.3:7000 has 0 working replicas, declared 1; not healthy: 10.244.1.6:7000 (slave,fail, disconnected)",
        });
        const fiveNodes = NODES_3X1.split("\n").slice(0, 5).join("\n");
        expect(byCheck(observation(fiveNodes))["masters and replicas"].detail).toBe("master 10.244.1.4:7000 has 0 working replicas, declared 1; 5 nodes in the cluster, declared 6");
        expect(byCheck(observation(NODES_3X1), { masters: 3, replicasPerMaster: 2 })["masters and replicas"].status).toBe("fail");
    });

    it("report every check unreachable for a silent node, and failed for a refused password", () => {
        const silent = evaluateRedis(prod, { address: "127.0.0.1:7000", error: { message: "no answer from Redis at 127.0.0.1:7000 within 2000 ms", unreachable: true }, placement: new Map() });
        expect(silent.map((r) => [r.check, r.status])).toEqual(Object.values(REDIS_CHECKS).map((c) => [c, "unreachable"]));
        const refused = evaluateRedis(prod, { address: "127.0.0.1:7000", error: { message: "password refused (WRONGPASS)", unreachable: false }, placement: new Map() });
        expect(new Set(refused.map((r) => r.status))).toEqual(new Set(["fail"]));
    });
});
