/**
 * scripts/kafka-drain.ts: its parsing, and its whole run against a stand-in kubectl that keeps a cluster's partition
 * layout in a file and answers `get statefulset`, `exec ... TopicCommand --describe`, the reassignment tool's
 * `--execute`/`--verify` and `annotate` the way the real ones do.
 */
import * as fs from "fs";
import * as path from "path";
import { PartitionState } from "../../components/kafka/rebalance/assignment";
import { DRAIN_ANNOTATION } from "../../components/kafka/rebalance/broker-guard";
import { drain, parseDrainArgs, parseTopicDescribe, verifyState } from "../../scripts/kafka-drain";
import { scratchDir } from "./script-runner";

const ROOT = path.join(__dirname, "..", "..");

describe("parseDrainArgs", () => {
    it("takes the stack and the brokers, defaulting the stack file, kubectl and the bounds", () => {
        expect(parseDrainArgs(["--stack", "prod", "--brokers", "4,3,4"], "/repo")).toEqual({
            stack: "prod", brokers: [3, 4], configFile: "/repo/Pulumi.prod.yaml", kubectl: "kubectl",
            kubeContext: undefined, kubeconfig: undefined, timeoutSeconds: 3600, pollSeconds: 5,
        });
    });

    it.each([
        [["--brokers", "3"], /^--stack is required/],
        [["--stack", "dev"], /^--brokers takes broker ids such as 3,4, got null/],
        [["--stack", "dev", "--brokers", "three"], /^--brokers takes broker ids such as 3,4, got "three"/],
        [["--stack", "dev", "--brokers", "3", "--timeout-s", "5"], /^--timeout-s must be an integer from 10 to 86400, got "5"/],
        [["--stack", "dev", "--brokers", "3", "--force"], /^unknown argument "--force"/],
    ])("refuses %j", (argv, message) => {
        expect(() => parseDrainArgs(argv as string[])).toThrow(message);
    });
});

describe("parseTopicDescribe", () => {
    it("reads Kafka 3.9's describe lines, a leaderless partition and an empty ISR included", () => {
        const text = [
            "Topic: bss.events\tTopicId: 9cXqv3l7SmmyP0jkQ3G0Ig\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: min.insync.replicas=2",
            "\tTopic: bss.events\tPartition: 0\tLeader: 3\tReplicas: 3,0,1\tIsr: 3,0,1\tElr: \tLastKnownElr: ",
            "\tTopic: bss.events\tPartition: 1\tLeader: none\tReplicas: 4,1,2\tIsr: \tElr: \tLastKnownElr: ",
            "",
        ].join("\n");
        expect(parseTopicDescribe(text)).toEqual([
            { topic: "bss.events", partition: 0, leader: 3, replicas: [3, 0, 1], isr: [3, 0, 1] },
            { topic: "bss.events", partition: 1, leader: -1, replicas: [4, 1, 2], isr: [] },
        ]);
    });
});

describe("verifyState", () => {
    it("counts partitions still moving and ones that ended elsewhere", () => {
        expect(verifyState("Status of partition reassignment:\nReassignment of partition a-0 is still in progress.\nReassignment of partition a-1 is completed.\n"
            + "There is no active reassignment of partition a-2, but replica set is [0, 1] rather than [1, 2].\n")).toEqual({
            moving: 1, elsewhere: ["There is no active reassignment of partition a-2, but replica set is [0, 1] rather than [1, 2]."],
        });
    });
});

interface FakeCluster {
    dir: string;
    kubectl: string;
    /** The layout as the stand-in holds it now. */
    partitions(): PartitionState[];
    /** Every kubectl call, arguments joined. */
    calls(): string[];
    annotations(): Record<string, string>;
}

let dirs: string[] = [];
afterEach(() => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    dirs = [];
});

/** A stand-in kubectl over a cluster of `replicas` brokers holding `partitions`; each --verify call completes one more partition. */
function fakeCluster(replicas: number, partitions: PartitionState[]): FakeCluster {
    const dir = scratchDir();
    dirs.push(dir);
    const state = path.join(dir, "state.json");
    fs.writeFileSync(state, JSON.stringify({ replicas, generation: 4, annotations: {}, partitions, pending: [], calls: [] }));
    const kubectl = path.join(dir, "kubectl");
    fs.writeFileSync(kubectl, `#!/usr/bin/env node
const fs = require("fs");
const s = JSON.parse(fs.readFileSync(${JSON.stringify(state)}, "utf8"));
const args = process.argv.slice(2);
s.calls.push(args.join(" "));
const save = () => fs.writeFileSync(${JSON.stringify(state)}, JSON.stringify(s));
const has = (a) => args.includes(a);
let input = "";
try { input = fs.readFileSync(0, "utf8"); } catch {}
if (has("get")) {
    process.stdout.write(JSON.stringify({ metadata: { generation: s.generation, annotations: s.annotations }, spec: { replicas: s.replicas } }));
} else if (has("annotate")) {
    const [key, value] = args[args.length - 1].split(/=(.*)/s);
    s.annotations[key] = value;
} else if (has("bash")) {
    s.file = JSON.parse(input);
} else if (has("org.apache.kafka.tools.TopicCommand")) {
    for (const p of s.partitions) {
        process.stdout.write("\\tTopic: " + p.topic + "\\tPartition: " + p.partition + "\\tLeader: " + (p.leader < 0 ? "none" : p.leader)
            + "\\tReplicas: " + p.replicas.join(",") + "\\tIsr: " + p.isr.join(",") + "\\tElr: \\tLastKnownElr: \\n");
    }
} else if (has("--execute")) {
    s.throttle = args[args.indexOf("--throttle") + 1];
    s.pending = s.file.partitions;
} else if (has("--verify")) {
    const [done, ...rest] = s.pending;
    if (done) {
        const p = s.partitions.find((x) => x.topic === done.topic && x.partition === done.partition);
        p.replicas = done.replicas; p.isr = done.replicas; p.leader = done.replicas[0];
    }
    s.pending = rest;
    for (const p of rest) process.stdout.write("Reassignment of partition " + p.topic + "-" + p.partition + " is still in progress.\\n");
}
save();
`, { mode: 0o755 });
    const read = () => JSON.parse(fs.readFileSync(state, "utf8"));
    return { dir, kubectl, partitions: () => read().partitions, calls: () => read().calls, annotations: () => read().annotations };
}

const healthy = (topic: string, partition: number, replicas: number[]): PartitionState => ({ topic, partition, replicas, leader: replicas[0], isr: replicas });

function options(cluster: FakeCluster, brokers: number[]) {
    return { ...parseDrainArgs(["--stack", "dev", "--brokers", brokers.join(","), "--kubectl", cluster.kubectl, "--poll-s", "1"], ROOT) };
}

describe("drain (scripts/kafka-drain.ts) against a stand-in cluster", () => {
    it("moves every replica off the brokers, throttled, waits, then marks the StatefulSet at its generation", async () => {
        const cluster = fakeCluster(5, [healthy("a", 0, [3, 0, 1]), healthy("a", 1, [4, 3, 2]), healthy("a", 2, [0, 1, 2]), healthy("__consumer_offsets", 0, [1, 4, 0])]);
        const lines: string[] = [];
        const result = await drain(options(cluster, [3, 4]), (l) => lines.push(l));
        expect(result.moved).toBe(3);
        expect(cluster.partitions().flatMap((p) => p.replicas).filter((id) => id >= 3)).toEqual([]);
        expect(JSON.parse(cluster.annotations()[DRAIN_ANNOTATION])).toEqual({ brokers: [3, 4], generation: 4 });
        const calls = cluster.calls();
        expect(calls.every((c) => /^(--context \S+ )?--namespace bss /.test(c))).toBe(true);
        expect(calls.filter((c) => c.includes(" exec ")).every((c) => c.includes("exec -i kafka-0 -c kafka -- "))).toBe(true);
        expect(calls.find((c) => c.includes("--execute"))).toMatch(/--reassignment-json-file \/tmp\/bss-drain\.json --execute --throttle 52428800$/);
        expect(lines[0]).toBe("kafka-drain: round 1: moving 3 partition(s) off brokers 3,4 onto 0,1,2, throttled to 52428800 bytes/s");
        expect(lines[lines.length - 1]).toMatch(/^kafka-drain: brokers 3,4 hold no replicas \(3 partition\(s\) moved in \d+ s, throttle removed\); the StatefulSet is marked at generation 4/);
    }, 60_000);

    it("refuses before moving anything when a partition's only in-sync copy is on a drained broker, and marks nothing", async () => {
        const cluster = fakeCluster(5, [healthy("a", 0, [3, 0, 1]), { topic: "a", partition: 1, replicas: [4, 1, 2], leader: 4, isr: [4] }]);
        await expect(drain(options(cluster, [3, 4]), () => undefined)).rejects.toThrow(
            "refusing to drain brokers 3,4 (nothing was moved in this round):\n  - a-1 is in sync only on brokers 4, which are to be drained: draining would remove its last in-sync copy; wait until its other replicas (1,2) are back in sync");
        expect(cluster.calls().filter((c) => c.includes("--execute") || c.includes("annotate"))).toEqual([]);
        expect(cluster.annotations()).toEqual({});
    }, 60_000);

    it("moves nothing and still marks the StatefulSet when the brokers already hold nothing", async () => {
        const cluster = fakeCluster(5, [healthy("a", 0, [0, 1, 2])]);
        expect((await drain(options(cluster, [3, 4]), () => undefined)).moved).toBe(0);
        expect(cluster.calls().filter((c) => c.includes("--execute"))).toEqual([]);
        expect(JSON.parse(cluster.annotations()[DRAIN_ANNOTATION])).toEqual({ brokers: [3, 4], generation: 4 });
    }, 60_000);

    it("refuses brokers the StatefulSet does not run, or all of them", async () => {
        await expect(drain(options(fakeCluster(3, []), [3, 4]), () => undefined)).rejects.toThrow("--brokers 3,4: the StatefulSet bss/kafka runs brokers 0-2 only, not 3,4");
        await expect(drain(options(fakeCluster(2, []), [0, 1]), () => undefined)).rejects.toThrow("--brokers 0,1 would drain every broker");
    }, 60_000);
});
