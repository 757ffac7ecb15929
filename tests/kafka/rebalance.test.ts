/**
 * The rebalance Job (components/kafka/rebalance): its objects, and its script against a stand-in `java` that answers
 * as Kafka's BrokerApiVersionsCommand and ReassignPartitionsCommand do, one scripted answer per call.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { buildRebalanceObjects } from "../../components/kafka/rebalance/objects";
import { loadSettings } from "../../settings";
import { stackFile } from "../helpers/render";
import { scratchDir } from "./script-runner";

const SCRIPT = path.join(__dirname, "..", "..", "components", "kafka", "rebalance", "rebalance.sh");

function settings(kafka: Record<string, unknown> = {}) {
    const config = stackFile("dev").values;
    return loadSettings({ ...config, "bss:kafka": JSON.stringify({ ...JSON.parse(config["bss:kafka"] ?? "{}"), ...kafka }) }, "dev");
}
const plain = <T>(value: T): any => JSON.parse(JSON.stringify(value));

describe("buildRebalanceObjects", () => {
    it("names the Job and ConfigMap by broker count and runs the shipped script in the Kafka image", () => {
        const s = settings({ brokers: 5 });
        const objects = plain(buildRebalanceObjects("bss", s.kafka, s.topics));
        expect(objects.job.metadata.name).toBe("kafka-rebalance-5");
        expect(objects.config.metadata.name).toBe("kafka-rebalance-5");
        const pod = objects.job.spec.template.spec;
        expect(pod.containers[0].image).toBe(s.kafka.image);
        expect(pod.containers[0].command).toEqual(["/opt/bss/kafka-rebalance/rebalance.sh"]);
        expect(objects.config.data["rebalance.sh"]).toBe(fs.readFileSync(SCRIPT, "utf8"));
        expect(pod.volumes[0]).toEqual({ name: "scripts", configMap: { name: "kafka-rebalance-5", defaultMode: 0o755 } });
        const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
        expect(env).toEqual({
            KAFKA_BOOTSTRAP: "kafka.bss.svc.cluster.local:9092",
            KAFKA_BROKERS: "5",
            REASSIGNMENT_THROTTLE_BYTES: "52428800",
            ASSIGNMENT_FILE: "/opt/bss/kafka-rebalance/assignment.json",
        });
        expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true });
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.containers[0].resources.limits).toEqual({ cpu: "1", memory: "384Mi" });
    });

    it("hands the script the balanced layout of every declared partition and records the replicas per broker", () => {
        const s = settings({ brokers: 5 });
        const objects = plain(buildRebalanceObjects("bss", s.kafka, s.topics));
        const layout = JSON.parse(objects.config.data["assignment.json"]);
        expect(layout.version).toBe(1);
        expect(layout.partitions).toHaveLength(33);
        expect(Object.keys(objects.replicasPerBroker)).toEqual(["0", "1", "2", "3", "4"]);
        expect(Object.values(objects.replicasPerBroker).reduce((a: any, b: any) => a + b, 0)).toBe(99);
    });

    it("changes the pod template (so the Job is replaced and runs again) when the layout or the throttle changes, not otherwise", () => {
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
}

/** Runs rebalance.sh with a stand-in java: `brokerAnswers` and `verifyAnswers` are consumed one per call (the last repeats). */
function runJob(brokerAnswers: number[], verifyAnswers: string[], timeoutSeconds = 30): JobRun {
    const dir = scratchDir();
    try {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        const answers = (name: string, list: string[]) => list.forEach((text, i) => fs.writeFileSync(path.join(dir, `${name}.${i}`), text));
        answers("brokers", brokerAnswers.map((n) => [...Array(n).keys()].map((id) => `kafka-${id}.kafka-headless:9092 (id: ${id} rack: null) -> (\n\tProduce(0): 0 to 11 [usable: 11],\n)\n`).join("")));
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
    *--verify*) next verify ;;
    *--execute*) echo "Successfully started partition reassignments" ;;
esac
`, { mode: 0o755 });
        const assignment = path.join(dir, "assignment.json");
        fs.writeFileSync(assignment, JSON.stringify({ version: 1, partitions: [{ topic: "a", partition: 0, replicas: [3, 0, 1] }, { topic: "a", partition: 1, replicas: [4, 1, 2] }] }));
        const result = spawnSync("bash", [SCRIPT], {
            env: {
                PATH: `${bin}:/usr/bin:/bin`, KAFKA_HOME: "/opt/kafka", KAFKA_BOOTSTRAP: "kafka:9092", KAFKA_BROKERS: "5",
                REASSIGNMENT_THROTTLE_BYTES: "52428800", ASSIGNMENT_FILE: assignment, REBALANCE_POLL_SECONDS: "0", REBALANCE_TIMEOUT_SECONDS: String(timeoutSeconds),
            },
            encoding: "utf8",
            timeout: 30_000,
        });
        const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") : [];
        return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls: calls.map((c) => c.replace(assignment, "ASSIGNMENT")) };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const status = (...lines: string[]) => `Status of partition reassignment:\n${lines.join("\n")}\n`;
const elsewhere = (p: string) => `There is no active reassignment of partition ${p}, but replica set is [0, 1, 2] rather than [3, 0, 1].`;
const done = (p: string) => `Reassignment of partition ${p} is completed.`;
const moving = (p: string) => `Reassignment of partition ${p} is still in progress.`;

describe("components/kafka/rebalance/rebalance.sh", () => {
    it("waits for every broker, executes the layout throttled and verifies until it is complete", () => {
        const run = runJob([3, 4, 5], [
            status(elsewhere("a-0"), elsewhere("a-1")),
            status(moving("a-0"), done("a-1")),
            status(done("a-0"), done("a-1")),
        ]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const reassign = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand --bootstrap-server kafka:9092 --reassignment-json-file ASSIGNMENT";
        expect(run.calls).toEqual([
            "kafka.admin.BrokerApiVersionsCommand --bootstrap-server kafka:9092",
            "kafka.admin.BrokerApiVersionsCommand --bootstrap-server kafka:9092",
            "kafka.admin.BrokerApiVersionsCommand --bootstrap-server kafka:9092",
            `${reassign} --verify`,
            `${reassign} --execute --throttle 52428800`,
            `${reassign} --verify`,
            `${reassign} --verify`,
        ]);
        expect(run.stdout).toMatch(/3 of 5 brokers answer; waiting\n.*4 of 5 brokers answer; waiting\n.*5 brokers answer; placing 2 partition\(s\)\n.*2 partition\(s\) to move, throttled to 52428800 bytes\/s/);
        expect(run.stdout).toMatch(/1 partition\(s\) still moving\n.*every partition in place after \d+ s; throttle removed\n$/);
    });

    it("executes nothing when the cluster already has the layout (a second run)", () => {
        const run = runJob([5], [status(done("a-0"), done("a-1"))]);
        expect(run.code).toBe(0);
        expect(run.calls.filter((c) => c.includes("--execute"))).toEqual([]);
        expect(run.stdout).toMatch(/every partition is already in place; nothing to move\n$/);
    });

    it("waits for a reassignment an earlier attempt left running instead of starting another", () => {
        const run = runJob([5], [status(moving("a-0"), done("a-1")), status(done("a-0"), done("a-1"))]);
        expect(run.code).toBe(0);
        expect(run.calls.filter((c) => c.includes("--execute"))).toEqual([]);
        expect(run.stdout).toMatch(/a reassignment is already running; waiting for it/);
    });

    it("fails when the brokers do not all answer within its bound", () => {
        const run = runJob([2], [], 1);
        expect(run.code).toBe(1);
        expect(run.stderr).toBe("kafka-rebalance: only 2 of 5 brokers answered within 1 s\n");
        expect(run.calls.filter((c) => c.includes("ReassignPartitionsCommand"))).toEqual([]);
    });
});
