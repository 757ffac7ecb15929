/**
 * The KRaft side of the start scripts, run as real scripts (components/kafka/start.sh, controller-start.sh and the
 * format-storage.sh both call) with a stand-in `java`: Kafka's StorageTool writes meta.properties the way 3.9.2 does
 * (`node.id`, `directory.id`, `version=1`, `cluster.id`), kafka.Kafka only records that it was started.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderServerProperties } from "../../components/kafka/config";
import { controllerQuorumVoters, renderControllerProperties } from "../../components/kafka/controllers/config";
import { renderLog4jProperties } from "../../components/zookeeper/config";
import { loadSettings } from "../../settings";

const KAFKA_DIR = path.join(__dirname, "..", "..", "components", "kafka");
const CLUSTER_ID = "q1Sh-9_tQ5Wk3mJ2bL0aZw";

let dirs: string[] = [];
afterEach(() => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    dirs = [];
});

interface Run {
    code: number;
    stdout: string;
    stderr: string;
    /** Every `java` invocation, its arguments joined by spaces, in order. */
    calls: string[];
    dir: string;
    logDir: string;
    runtimeConfig: string;
}

/** A scratch pod: config, runtime and data folders; `log.dirs` of `properties` pointed into its data folder. */
function pod(configName: string, properties: string): { dir: string; logDir: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-kraft-"));
    dirs.push(dir);
    for (const sub of ["config", "runtime", "data", "bin"]) {
        fs.mkdirSync(path.join(dir, sub));
    }
    const logDir = path.join(dir, "data", "data");
    fs.writeFileSync(path.join(dir, "config", configName), properties.replace(/^log\.dirs=.*$/m, `log.dirs=${logDir}`));
    fs.writeFileSync(path.join(dir, "config", "log4j.properties"), renderLog4jProperties());
    fs.writeFileSync(path.join(dir, "bin", "java"), [
        "#!/usr/bin/env bash",
        `echo "$*" >>"${dir}/java-calls"`,
        'for arg in "$@"; do case "$arg" in kafka.tools.StorageTool) storage=yes;; --cluster-id=*) id="${arg#--cluster-id=}";; esac; done',
        'if [ "${storage:-}" = yes ]; then',
        '    while [ "$1" != "-c" ]; do shift; done; config="$2"',
        '    dir="$(sed -n "s/^log\\.dirs=//p" "$config")"; node="$(sed -n "s/^node\\.id=//p" "$config")"',
        '    mkdir -p "$dir"; printf "#\\nnode.id=%s\\ndirectory.id=AAAAAAAAAAAAAAAAAAAAAA\\nversion=1\\ncluster.id=%s\\n" "$node" "$id" >"$dir/meta.properties"',
        "fi",
        "",
    ].join("\n"), { mode: 0o755 });
    return { dir, logDir };
}

function run(script: string, scratch: { dir: string; logDir: string }, env: Record<string, string>): Run {
    const result = spawnSync("bash", [path.join(KAFKA_DIR, script)], {
        env: { PATH: `${path.join(scratch.dir, "bin")}:/usr/bin:/bin`, KAFKA_CONFIG_DIR: path.join(scratch.dir, "config"), KAFKA_RUNTIME_DIR: path.join(scratch.dir, "runtime"), MEMORY_LIMIT_MB: "1024", ...env },
        encoding: "utf8",
        timeout: 10_000,
    });
    const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
    return {
        code: result.status ?? -1,
        stdout: result.stdout,
        stderr: result.stderr,
        calls: read(path.join(scratch.dir, "java-calls")).split("\n").filter(Boolean),
        dir: scratch.dir,
        logDir: scratch.logDir,
        runtimeConfig: read(path.join(scratch.dir, "runtime", "server.properties")),
    };
}

function brokerPod(kafka: Record<string, unknown> = { metadata: "kraft" }) {
    const settings = loadSettings({ "bss:environment": "dev", "bss:kafka": JSON.stringify(kafka) }, "dev").kafka;
    const connect = settings.metadata === "kraft" ? controllerQuorumVoters(1, "bss") : "zk:2181/bss-kafka";
    return pod("server.properties", renderServerProperties(settings, connect));
}

/** `clusterId` null: no KAFKA_CLUSTER_ID in the env at all. */
const brokerEnv = (ordinal: number, clusterId: string | null = CLUSTER_ID): Record<string, string> => ({
    POD_NAME: `kafka-${ordinal}`, POD_NAMESPACE: "bss", KAFKA_HEADLESS_SERVICE: "kafka-headless", KAFKA_EXTERNAL_HOST: "localhost",
    KAFKA_EXTERNAL_PORT_BASE: "9092", ...(clusterId === null ? {} : { KAFKA_CLUSTER_ID: clusterId }),
});

const storageCalls = (r: Run) => r.calls.filter((c) => c.includes("kafka.tools.StorageTool"));
const kafkaStarted = (r: Run) => r.calls.some((c) => / kafka\.Kafka /.test(`${c} `));
const writeMeta = (logDir: string, clusterId: string) => {
    fs.mkdirSync(logDir, { recursive: true });
    fs.writeFileSync(path.join(logDir, "meta.properties"), `#\nnode.id=1\ndirectory.id=BBBBBBBBBBBBBBBBBBBBBB\nversion=1\ncluster.id=${clusterId}\n`);
};

describe("components/kafka/start.sh in KRaft mode", () => {
    it("formats a fresh log dir once for the cluster ID, then starts the broker as node.id = ordinal", () => {
        const r = run("start.sh", brokerPod(), brokerEnv(2));
        expect(r.code).toBe(0);
        expect(storageCalls(r)).toEqual([expect.stringContaining(`kafka.tools.StorageTool format --cluster-id=${CLUSTER_ID} -c ${r.dir}/runtime/server.properties --ignore-formatted`)]);
        expect(r.calls.indexOf(storageCalls(r)[0])).toBeLessThan(r.calls.findIndex((c) => c.includes("kafka.Kafka")));
        expect(fs.readFileSync(path.join(r.logDir, "meta.properties"), "utf8")).toMatch(new RegExp(`^node\\.id=2$[\\s\\S]*^cluster\\.id=${CLUSTER_ID}$`, "m"));
        expect(r.runtimeConfig).toMatch(/^node\.id=2$/m);
        expect(r.runtimeConfig).not.toMatch(/^broker\.id=/m);
        expect(r.stdout).toMatch(/kafka-format: formatting .* for cluster q1Sh-9_tQ5Wk3mJ2bL0aZw/);
    });

    it("does not format again on a restart: the log dir already holds this cluster's meta.properties", () => {
        const scratch = brokerPod();
        expect(run("start.sh", scratch, brokerEnv(1)).code).toBe(0);
        const meta = fs.readFileSync(path.join(scratch.logDir, "meta.properties"), "utf8");
        fs.rmSync(path.join(scratch.dir, "java-calls"));
        const again = run("start.sh", scratch, brokerEnv(1));
        expect(again.code).toBe(0);
        expect(storageCalls(again)).toEqual([]);
        expect(kafkaStarted(again)).toBe(true);
        expect(again.stdout).toContain(`already formatted for cluster ${CLUSTER_ID}`);
        expect(fs.readFileSync(path.join(scratch.logDir, "meta.properties"), "utf8")).toBe(meta);
    });

    it("refuses a log dir formatted for another cluster ID, naming both, and starts nothing", () => {
        const scratch = brokerPod();
        writeMeta(scratch.logDir, "ZZZZZZZZZZZZZZZZZZZZZZ");
        const r = run("start.sh", scratch, brokerEnv(1));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/is formatted for cluster 'ZZZZZZZZZZZZZZZZZZZZZZ', not this stack's cluster 'q1Sh-9_tQ5Wk3mJ2bL0aZw': refusing to start/);
        expect(r.calls).toEqual([]);
        expect(fs.readFileSync(path.join(scratch.logDir, "meta.properties"), "utf8")).toMatch(/^cluster\.id=ZZZZZZZZZZZZZZZZZZZZZZ$/m);
    });

    it.each([
        ["missing", null, /KAFKA_CLUSTER_ID must hold the cluster ID/],
        ["too short", "abc", /KAFKA_CLUSTER_ID 'abc' is not a Kafka cluster ID/],
        ["not base64url", "q1Sh+9/tQ5Wk3mJ2bL0aZw", /is not a Kafka cluster ID/],
    ])("refuses a cluster ID that is %s", (_what, clusterId, message) => {
        const r = run("start.sh", brokerPod(), brokerEnv(0, clusterId));
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(message);
        expect(kafkaStarted(r)).toBe(false);
    });

    it("passes an ID starting with '-' as --cluster-id=..., where it cannot read as an option", () => {
        const r = run("start.sh", brokerPod(), brokerEnv(0, "-bcdefghijklmnopqrstuv"));
        expect(r.code).toBe(0);
        expect(storageCalls(r)[0]).toContain("--cluster-id=-bcdefghijklmnopqrstuv -c");
    });

    it("never formats in ZooKeeper mode and keeps broker.id there", () => {
        const r = run("start.sh", brokerPod({}), brokerEnv(1, null));
        expect(r.code).toBe(0);
        expect(storageCalls(r)).toEqual([]);
        expect(r.runtimeConfig).toMatch(/^broker\.id=1$/m);
        expect(r.runtimeConfig).not.toMatch(/^node\.id=/m);
    });
});

describe("components/kafka/controller-start.sh", () => {
    const controllerPod = (voters = 3) => pod("controller.properties", renderControllerProperties(controllerQuorumVoters(voters, "bss")));
    const env = (ordinal: number) => ({ POD_NAME: `kafka-controller-${ordinal}`, KAFKA_NODE_ID_BASE: "1000", KAFKA_CLUSTER_ID: CLUSTER_ID });

    it.each([0, 1, 2])("makes kafka-controller-%i node 1000 + ordinal, formats its metadata log dir and runs kafka.Kafka", (ordinal) => {
        const r = run("controller-start.sh", controllerPod(), env(ordinal));
        expect(r.code).toBe(0);
        expect(r.runtimeConfig).toMatch(new RegExp(`^node\\.id=${1000 + ordinal}$`, "m"));
        expect(r.runtimeConfig).toMatch(/^process\.roles=controller$/m);
        expect(storageCalls(r)).toHaveLength(1);
        expect(r.calls[r.calls.length - 1]).toMatch(new RegExp(`-cp /opt/kafka/libs/\\* kafka\\.Kafka ${r.dir}/runtime/server\\.properties$`));
        expect(r.stdout).toContain(`kafka-controller-${ordinal} is controller node ${1000 + ordinal}`);
    });

    it("refuses a pod whose node id the static quorum does not list (a fourth controller of three voters)", () => {
        const r = run("controller-start.sh", controllerPod(3), env(3));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/node 1003 \(kafka-controller-3\) is not a voter in controller\.quorum\.voters/);
        expect(r.calls).toEqual([]);
    });

    it("passes the JMX exporter agent to java only when the monitoring module sets KAFKA_JMX_AGENT, before the main class", () => {
        const agent = "/opt/bss/jmx-agent/agent.jar=9404:/opt/bss/jmx-config/config.yaml";
        const without = run("controller-start.sh", controllerPod(), env(0));
        expect(without.code).toBe(0);
        expect(without.calls[without.calls.length - 1]).not.toContain("-javaagent");
        const withAgent = run("controller-start.sh", controllerPod(), { ...env(0), KAFKA_JMX_AGENT: agent });
        expect(withAgent.code).toBe(0);
        expect(withAgent.calls[withAgent.calls.length - 1]).toMatch(new RegExp(`-javaagent:${agent.replace(/\./g, "\\.")} .*kafka\\.Kafka `));
    });

    it("refuses a controller log dir of another cluster like a broker's", () => {
        const scratch = controllerPod();
        writeMeta(scratch.logDir, "ZZZZZZZZZZZZZZZZZZZZZZ");
        const r = run("controller-start.sh", scratch, env(0));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/formatted for cluster 'ZZZZZZZZZZZZZZZZZZZZZZ'/);
        expect(kafkaStarted(r)).toBe(false);
    });
});
