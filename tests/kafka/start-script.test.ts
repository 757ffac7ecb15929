import * as fs from "fs";
import * as path from "path";
import { renderServerProperties } from "../../components/kafka/config";
import { renderLog4jProperties } from "../../components/zookeeper/config";
import { loadSettings } from "../../settings";
import { runStartScript, scratchDir, ScriptRun } from "./script-runner";

const START = path.join(__dirname, "..", "..", "components", "kafka", "start.sh");

let dirs: string[] = [];
afterEach(() => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    dirs = [];
});

/** start.sh of the broker StatefulSet, given the rendered config of `kafka` settings and a pod's env. */
function start(kafka: Record<string, unknown>, env: Record<string, string>): ScriptRun {
    const settings = loadSettings({ "bss:environment": "dev", "bss:kafka": JSON.stringify(kafka) }, "dev");
    const dir = scratchDir();
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, "config"));
    fs.mkdirSync(path.join(dir, "runtime"));
    fs.writeFileSync(path.join(dir, "config", "server.properties"), renderServerProperties(settings.kafka, "zk:2181/bss-kafka"));
    fs.writeFileSync(path.join(dir, "config", "log4j.properties"), renderLog4jProperties());
    return runStartScript(START, dir, {
        KAFKA_CONFIG_DIR: path.join(dir, "config"),
        KAFKA_RUNTIME_DIR: path.join(dir, "runtime"),
        POD_NAMESPACE: "bss",
        KAFKA_HEADLESS_SERVICE: "kafka-headless",
        KAFKA_EXTERNAL_HOST: settings.kafka.externalHost,
        KAFKA_EXTERNAL_PORT_BASE: String(settings.kafka.externalPortBase),
        MEMORY_LIMIT_MB: "1024",
        ...env,
    });
}

const property = (run: ScriptRun, key: string) => run.javaConfig.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

describe("components/kafka/start.sh", () => {
    it.each([0, 1, 2])("makes pod kafka-%i broker %i, advertised as its pod DNS name and localhost:9092+i (kind)", (ordinal) => {
        const run = start({}, { POD_NAME: `kafka-${ordinal}` });
        expect(run.code).toBe(0);
        expect(property(run, "broker.id")).toEqual([String(ordinal)]);
        expect(property(run, "advertised.listeners")).toEqual([
            `INTERNAL://kafka-${ordinal}.kafka-headless.bss.svc.cluster.local:9092,EXTERNAL://localhost:${9092 + ordinal}`,
        ]);
        expect(run.javaArgs.slice(-2)).toEqual(["kafka.Kafka", path.join(run.dir, "runtime", "server.properties")]);
        expect(run.javaArgs).toContain("/opt/kafka/libs/*");
    });

    it("advertises a minikube-style node address with the nodePorts as external ports", () => {
        const run = start({ externalHost: "192.168.49.2", externalPortBase: 30092 }, { POD_NAME: "kafka-2" });
        expect(property(run, "advertised.listeners")).toEqual(["INTERNAL://kafka-2.kafka-headless.bss.svc.cluster.local:9092,EXTERNAL://192.168.49.2:30094"]);
    });

    it("advertises a pod a scale-out adds (kafka-4 of a template rendered for three brokers) on base + 4", () => {
        const run = start({ brokers: 3 }, { POD_NAME: "kafka-4" });
        expect(run.code).toBe(0);
        expect(property(run, "broker.id")).toEqual(["4"]);
        expect(property(run, "advertised.listeners")).toEqual(["INTERNAL://kafka-4.kafka-headless.bss.svc.cluster.local:9092,EXTERNAL://localhost:9096"]);
    });

    it("keeps the shared settings and adds nothing else", () => {
        const run = start({}, { POD_NAME: "kafka-1" });
        const shared = fs.readFileSync(path.join(run.dir, "config", "server.properties"), "utf8");
        expect(run.javaConfig.startsWith(shared)).toBe(true);
        expect(run.javaConfig.slice(shared.length).trim().split("\n").map((l) => l.split("=")[0])).toEqual(["broker.id", "advertised.listeners"]);
    });

    it("sets broker.rack to the zone the downward API hands it, and none without one", () => {
        const zoned = start({}, { POD_NAME: "kafka-1", KAFKA_BROKER_RACK: "zone-b" });
        expect(property(zoned, "broker.rack")).toEqual(["zone-b"]);
        expect(zoned.stdout).toMatch(/rack zone-b,/);
        const plain = start({}, { POD_NAME: "kafka-1", KAFKA_BROKER_RACK: "" });
        expect(property(plain, "broker.rack")).toEqual([]);
        expect(plain.stdout).toMatch(/rack none \(no zone label on the pod\)/);
    });

    it("stamps its start time for the readiness probe's catch-up bound and clears the last start's report", () => {
        const run = start({}, { POD_NAME: "kafka-0" });
        const runtime = path.join(run.dir, "runtime");
        const stamp = Number(fs.readFileSync(path.join(runtime, "started-at"), "utf8"));
        expect(Math.abs(stamp - Date.now() / 1000)).toBeLessThan(60);
        fs.writeFileSync(path.join(runtime, "catch-up-reported"), "");
        start({}, { POD_NAME: "kafka-0", KAFKA_RUNTIME_DIR: runtime });
        expect(fs.existsSync(path.join(runtime, "catch-up-reported"))).toBe(false);
    });

    it.each([
        ["1024", "512m"],
        ["4096", "2048m"],
        ["16384", "6144m"],
    ])("sizes the heap from a %s Mi memory limit: %s (half, at most 6 GiB)", (limit, heap) => {
        const run = start({}, { POD_NAME: "kafka-0", MEMORY_LIMIT_MB: limit });
        expect(run.javaArgs).toEqual(expect.arrayContaining([`-Xms${heap}`, `-Xmx${heap}`]));
    });

    it("uses KAFKA_HOME when it is set (the tests' Maven jars)", () => {
        const run = start({}, { POD_NAME: "kafka-0", KAFKA_HOME: "/somewhere/kafka" });
        expect(run.javaArgs).toContain("/somewhere/kafka/libs/*");
    });

    it.each([
        ["a pod name without ordinal", { POD_NAME: "kafka" }, /does not end in a StatefulSet ordinal/],
        ["an external port base that is not a number", { POD_NAME: "kafka-0", KAFKA_EXTERNAL_PORT_BASE: "9092,9093" }, /KAFKA_EXTERNAL_PORT_BASE '9092,9093' is not a port number/],
        ["a base that leaves no port for its ordinal", { POD_NAME: "kafka-1", KAFKA_EXTERNAL_PORT_BASE: "65535" }, /leaves no port for broker 1 \(65536 > 65535\)/],
        ["no external port base", { POD_NAME: "kafka-0", KAFKA_EXTERNAL_PORT_BASE: "" }, /KAFKA_EXTERNAL_PORT_BASE must be set/],
        ["no memory limit", { POD_NAME: "kafka-0", MEMORY_LIMIT_MB: "" }, /MEMORY_LIMIT_MB must be set/],
    ])("refuses to start with %s", (_, env, message) => {
        const run = start({}, env as Record<string, string>);
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(message);
        expect(run.javaArgs).toEqual([]);
    });
});
