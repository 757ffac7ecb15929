/**
 * The rebalance Job (components/kafka/rebalance): its objects, and its script (with the real layout.awk) against a
 * stand-in `java` that answers as Kafka's BrokerApiVersionsCommand, TopicCommand and ReassignPartitionsCommand do,
 * one scripted answer per call.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { buildRebalanceObjects } from "../../components/kafka/rebalance/objects";
import { loadSettings } from "../../settings";
import { stackFile } from "../helpers/render";
import { scratchDir } from "./script-runner";

const SCRIPT = path.join(__dirname, "..", "..", "components", "kafka", "rebalance", "rebalance.sh");
const LAYOUT = path.join(__dirname, "..", "..", "components", "kafka", "rebalance", "layout.awk");

function settings(kafka: Record<string, unknown> = {}) {
    const config = stackFile("dev").values;
    return loadSettings({ ...config, "bss:kafka": JSON.stringify({ ...JSON.parse(config["bss:kafka"] ?? "{}"), ...kafka }) }, "dev");
}
const plain = <T>(value: T): any => JSON.parse(JSON.stringify(value));

describe("buildRebalanceObjects", () => {
    it("names the Job and ConfigMap by broker count and runs the shipped scripts in the Kafka image", () => {
        const s = settings({ brokers: 5 });
        const objects = plain(buildRebalanceObjects("bss", s.kafka, s.topics));
        expect(objects.job.metadata.name).toBe("kafka-rebalance-5");
        expect(objects.config.metadata.name).toBe("kafka-rebalance-5");
        const pod = objects.job.spec.template.spec;
        expect(pod.containers[0].image).toBe(s.kafka.image);
        expect(pod.containers[0].command).toEqual(["/opt/bss/kafka-rebalance/rebalance.sh"]);
        expect(objects.config.data["rebalance.sh"]).toBe(fs.readFileSync(SCRIPT, "utf8"));
        expect(objects.config.data["layout.awk"]).toBe(fs.readFileSync(LAYOUT, "utf8"));
        expect(pod.volumes[0]).toEqual({ name: "scripts", configMap: { name: "kafka-rebalance-5", defaultMode: 0o755 } });
        const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
        expect(env).toEqual({
            KAFKA_BOOTSTRAP: "kafka.bss.svc.cluster.local:9092",
            KAFKA_BROKERS: "5",
            REASSIGNMENT_THROTTLE_BYTES: "52428800",
            TOPICS_FILE: "/opt/bss/kafka-rebalance/topics",
            LAYOUT_SCRIPT: "/opt/bss/kafka-rebalance/layout.awk",
            WORK_DIR: "/tmp",
        });
        expect(pod.containers[0].volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
        expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true });
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.containers[0].resources.limits).toEqual({ cpu: "1", memory: "384Mi" });
    });

    it("hands the Job every declared topic for its layout and records an even share of the replicas per broker", () => {
        const s = settings({ brokers: 5 });
        const objects = plain(buildRebalanceObjects("bss", s.kafka, s.topics));
        const lines = objects.config.data.topics.trim().split("\n");
        expect(lines).toHaveLength(s.topics.length);
        expect(lines).toContain("topic bss.events 3 3");
        expect(lines.reduce((n: number, l: string) => n + Number(l.split(" ")[2]), 0)).toBe(33);
        expect(objects.replicasPerBroker).toEqual({ 0: 20, 1: 20, 2: 20, 3: 20, 4: 19 });
    });

    it("changes the pod template (so the Job is replaced and runs again) when the declared partitions or the throttle change, not otherwise", () => {
        const checksum = (kafka: Record<string, unknown>, topics = settings(kafka).topics) =>
            plain(buildRebalanceObjects("bss", settings(kafka).kafka, topics)).job.spec.template.metadata.annotations["bss/config-checksum"];
        expect(checksum({ brokers: 5 })).toBe(checksum({ brokers: 5 }));
        expect(checksum({ brokers: 5, reassignmentThrottleBytes: 10_000_000 })).not.toBe(checksum({ brokers: 5 }));
        const more = settings({ brokers: 5 }).topics.map((t) => (t.name === "bss.events" ? { ...t, partitions: 6 } : t));
        expect(checksum({ brokers: 5 }, more)).not.toBe(checksum({ brokers: 5 }));
    });
});

describe("bss:kafka.reassignmentThrottleBytes and catchUpSeconds", () => {
    it("default to 50 MB/s and 300 s", () => {
        expect([settings().kafka.reassignmentThrottleBytes, settings().kafka.catchUpSeconds]).toEqual([52_428_800, 300]);
    });

    it("are refused below their minimum, naming the key and the value", () => {
        expect(() => settings({ reassignmentThrottleBytes: 10, catchUpSeconds: 1 })).toThrow(/bss:kafka\.reassignmentThrottleBytes.*got 10[\s\S]*bss:kafka\.catchUpSeconds.*got 1/);
    });
});

interface JobRun {
    code: number | null;
    stdout: string;
    stderr: string;
    /** Every `java` call: its arguments after the classpath, one line per call. */
    calls: string[];
    /** The layout the script computed and handed kafka-reassign-partitions (null when it computed none). */
    layout: { topic: string; partition: number; replicas: number[] }[] | null;
}

type Rack = string | null;
const describeOutput = (partitions: Record<string, number[]>, moving = false) => `Topic: a\tTopicId: x\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: \n`
    + Object.entries(partitions).map(([p, replicas]) => `\tTopic: a\tPartition: ${p}\tLeader: ${replicas[0]}\tReplicas: ${replicas.join(",")}\tIsr: ${replicas.join(",")}`
        + (moving ? "\tAdding Replicas: 3\tRemoving Replicas: 0" : "")).join("\n") + "\n";
const threeBrokers = describeOutput({ 0: [0, 1, 2], 1: [1, 2, 0] });

/**
 * Runs rebalance.sh with a stand-in java: `brokerAnswers` (the racks of brokers 0..n-1), `describeAnswers` and
 * `verifyAnswers` are consumed one per call (the last repeats). The declared topics: `a`, 2 partitions, RF 3.
 */
function runJob(brokerAnswers: Rack[][], describeAnswers: string[], verifyAnswers: string[], options: { timeoutSeconds?: number; topics?: string } = {}): JobRun {
    const dir = scratchDir();
    try {
        const bin = path.join(dir, "bin");
        const work = path.join(dir, "work");
        fs.mkdirSync(bin);
        fs.mkdirSync(work);
        const answers = (name: string, list: string[]) => list.forEach((text, i) => fs.writeFileSync(path.join(dir, `${name}.${i}`), text));
        answers("brokers", brokerAnswers.map((racks) => racks.map((rack, id) => `kafka-${id}.kafka-headless:9092 (id: ${id} rack: ${rack ?? "null"}) -> (\n\tProduce(0): 0 to 11 [usable: 11],\n)\n`).join("")));
        answers("describe", describeAnswers);
        answers("verify", verifyAnswers);
        fs.writeFileSync(path.join(bin, "java"), `#!/usr/bin/env bash
shift 5
echo "$*" >> "${dir}/calls"
next() {
    local n=0
    [ -f "${dir}/$1.count" ] && n=$(cat "${dir}/$1.count")
    echo $((n + 1)) > "${dir}/$1.count"
    while [ ! -f "${dir}/$1.$n" ]; do n=$((n - 1)); done
    cat "${dir}/$1.$n"
}
case "$*" in
    *BrokerApiVersionsCommand*) next brokers ;;
    *TopicCommand*) next describe ;;
    *--verify*) next verify ;;
    *--execute*) echo "Successfully started partition reassignments" ;;
esac
`, { mode: 0o755 });
        const topics = path.join(dir, "topics");
        fs.writeFileSync(topics, options.topics ?? "topic a 2 3\n");
        const result = spawnSync("bash", [SCRIPT], {
            env: {
                PATH: `${bin}:/usr/bin:/bin`, KAFKA_HOME: "/opt/kafka", KAFKA_BOOTSTRAP: "kafka:9092", KAFKA_BROKERS: "5",
                REASSIGNMENT_THROTTLE_BYTES: "52428800", TOPICS_FILE: topics, LAYOUT_SCRIPT: LAYOUT, WORK_DIR: work,
                REBALANCE_POLL_SECONDS: "0", REBALANCE_TIMEOUT_SECONDS: String(options.timeoutSeconds ?? 30),
            },
            encoding: "utf8",
            timeout: 30_000,
        });
        const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") : [];
        const assignment = path.join(work, "assignment.json");
        return {
            code: result.status, stdout: result.stdout, stderr: result.stderr,
            calls: calls.map((c) => c.replace(assignment, "ASSIGNMENT")),
            layout: fs.existsSync(assignment) ? JSON.parse(fs.readFileSync(assignment, "utf8")).partitions : null,
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const zones: Rack[] = ["zone-a", "zone-b", "zone-c", "zone-a", "zone-b"];
const status = (...lines: string[]) => `Status of partition reassignment:\n${lines.join("\n")}\n`;
const elsewhere = (p: string) => `There is no active reassignment of partition ${p}, but replica set is [0, 1, 2] rather than [3, 0, 1].`;
const done = (p: string) => `Reassignment of partition ${p} is completed.`;
const moving = (p: string) => `Reassignment of partition ${p} is still in progress.`;
const describeCall = "org.apache.kafka.tools.TopicCommand --bootstrap-server kafka:9092 --describe --exclude-internal";
const reassign = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand --bootstrap-server kafka:9092 --reassignment-json-file ASSIGNMENT";

describe("components/kafka/rebalance/rebalance.sh", () => {
    it("waits for every broker, computes the rack-aware layout from their racks and the current assignment, executes it throttled and verifies until it is complete", () => {
        const run = runJob([zones.slice(0, 3), zones.slice(0, 4), zones], [threeBrokers], [
            status(elsewhere("a-0"), elsewhere("a-1")),
            status(moving("a-0"), done("a-1")),
            status(done("a-0"), done("a-1")),
        ]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        expect(run.calls).toEqual([
            "kafka.admin.BrokerApiVersionsCommand --bootstrap-server kafka:9092",
            "kafka.admin.BrokerApiVersionsCommand --bootstrap-server kafka:9092",
            "kafka.admin.BrokerApiVersionsCommand --bootstrap-server kafka:9092",
            describeCall,
            `${reassign} --verify`,
            `${reassign} --execute --throttle 52428800`,
            `${reassign} --verify`,
            `${reassign} --verify`,
        ]);
        // Every partition in three zones; broker 2 is alone in zone-c, so it keeps its replica of both.
        for (const p of run.layout!) {
            expect(new Set(p.replicas.map((id) => zones[id])).size).toBe(3);
            expect(p.replicas).toContain(2);
        }
        expect(run.layout!.flatMap((p) => p.replicas).filter((id) => id >= 3).length).toBeGreaterThan(0);
        expect(run.stdout).toMatch(/3 of 5 brokers answer; waiting\n.*4 of 5 brokers answer; waiting\n.*5 brokers answer; placing 2 partition\(s\)\n/);
        expect(run.stdout).toMatch(/kafka-rebalance: layout: 2 partition\(s\) on 5 broker\(s\) in 3 rack\(s\) zone-a:0,3 zone-b:1,4 zone-c:2; replicas\/leaders per broker .*; 2 of 6 replica\(s\) placed anew\n/);
        expect(run.stdout).toMatch(/2 partition\(s\) to move, throttled to 52428800 bytes\/s/);
        expect(run.stdout).toMatch(/1 partition\(s\) still moving\n.*every partition in place after \d+ s; throttle removed\n$/);
    });

    it("without racks computes the broker-balanced layout", () => {
        const run = runJob([[null, null, null, null, null]], [threeBrokers], [status(done("a-0"), done("a-1"))]);
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/layout: 2 partition\(s\) on 5 broker\(s\), rack-unaware \(no broker.rack on broker\(s\) 0,1,2,3,4\)/);
        const counts = [0, 1, 2, 3, 4].map((id) => run.layout!.filter((p) => p.replicas.includes(id)).length);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    });

    it("executes nothing when the cluster already has the layout (a second run)", () => {
        const run = runJob([zones], [threeBrokers], [status(done("a-0"), done("a-1"))]);
        expect(run.code).toBe(0);
        expect(run.calls.filter((c) => c.includes("--execute"))).toEqual([]);
        expect(run.stdout).toMatch(/every partition is already in place; nothing to move\n$/);
    });

    it("waits for a reassignment an earlier attempt left running before it computes the layout, from the settled assignment", () => {
        const settled = describeOutput({ 0: [3, 1, 2], 1: [0, 4, 2] });
        const run = runJob([zones], [describeOutput({ 0: [3, 1, 2, 0], 1: [1, 2, 0] }, true), settled], [status(done("a-0"), done("a-1"))]);
        expect(run.code).toBe(0);
        expect(run.calls.filter((c) => c === describeCall)).toHaveLength(2);
        expect(run.stdout).toMatch(/a reassignment is already running; waiting for it before computing the layout/);
        // The settled layout keeps the rules, so it is the layout.
        expect(run.layout).toEqual([{ topic: "a", partition: 0, replicas: [3, 1, 2] }, { topic: "a", partition: 1, replicas: [0, 4, 2] }]);
        expect(run.calls.filter((c) => c.includes("--execute"))).toEqual([]);
    });

    it("waits for a reassignment started after it looked instead of starting another", () => {
        const run = runJob([zones], [threeBrokers], [status(moving("a-0"), done("a-1")), status(done("a-0"), done("a-1"))]);
        expect(run.code).toBe(0);
        expect(run.calls.filter((c) => c.includes("--execute"))).toEqual([]);
        expect(run.stdout).toMatch(/a reassignment is already running; waiting for it\n/);
    });

    it("places nothing when the stack declares no topic", () => {
        const run = runJob([zones], [threeBrokers], [], { topics: "" });
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/5 brokers answer; no declared topic, nothing to place\n$/);
        expect(run.calls.filter((c) => !c.includes("BrokerApiVersionsCommand"))).toEqual([]);
    });

    it("fails when the brokers do not all answer within its bound", () => {
        const run = runJob([zones.slice(0, 2)], [], [], { timeoutSeconds: 1 });
        expect(run.code).toBe(1);
        expect(run.stderr).toBe("kafka-rebalance: only 2 of 5 brokers answered within 1 s\n");
        expect(run.calls.filter((c) => !c.includes("BrokerApiVersionsCommand"))).toEqual([]);
    });
});
