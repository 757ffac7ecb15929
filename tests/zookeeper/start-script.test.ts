import * as fs from "fs";
import * as path from "path";
import { renderLog4jProperties, renderMetricsCfg, renderZooCfg } from "../../components/zookeeper/config";
import { runStartScript, scratchDir, ScriptRun } from "../kafka/script-runner";

const START = path.join(__dirname, "..", "..", "components", "zookeeper", "start.sh");

let dirs: string[] = [];
afterEach(() => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    dirs = [];
});

/**
 * start.sh with the rendered files; the data folder is moved into the scratch dir (in a pod it is the PVC at
 * /var/lib/zookeeper, which the integration tests use).
 */
function start(env: Record<string, string>, metricsJars = false): ScriptRun {
    const dir = scratchDir();
    dirs.push(dir);
    for (const sub of ["config", "runtime", "metrics"]) {
        fs.mkdirSync(path.join(dir, sub));
    }
    fs.writeFileSync(path.join(dir, "config", "zoo.cfg"), renderZooCfg({ replicas: 3, namespace: "bss" }).split("/var/lib/zookeeper").join(path.join(dir, "pvc")));
    fs.writeFileSync(path.join(dir, "config", "metrics.cfg"), renderMetricsCfg());
    fs.writeFileSync(path.join(dir, "config", "log4j.properties"), renderLog4jProperties());
    if (metricsJars) {
        fs.writeFileSync(path.join(dir, "metrics", "zookeeper-prometheus-metrics-3.8.4.jar"), "");
    }
    return runStartScript(START, dir, {
        ZOOKEEPER_CONFIG_DIR: path.join(dir, "config"),
        ZOOKEEPER_RUNTIME_DIR: path.join(dir, "runtime"),
        ZOOKEEPER_METRICS_LIBS: path.join(dir, "metrics"),
        MEMORY_LIMIT_MB: "512",
        ...env,
    });
}

describe("components/zookeeper/start.sh", () => {
    it.each([0, 1, 2])("writes myid %i + 1 for pod zookeeper-%i and starts QuorumPeerMain on the rendered zoo.cfg", (ordinal) => {
        const run = start({ POD_NAME: `zookeeper-${ordinal}` });
        expect(run.code).toBe(0);
        expect(fs.readFileSync(path.join(run.dir, "pvc", "data", "myid"), "utf8")).toBe(`${ordinal + 1}\n`);
        expect(fs.existsSync(path.join(run.dir, "pvc", "log"))).toBe(true);
        expect(run.javaArgs.slice(-2)).toEqual(["org.apache.zookeeper.server.quorum.QuorumPeerMain", path.join(run.dir, "runtime", "zoo.cfg")]);
        expect(run.javaConfig).toBe(fs.readFileSync(path.join(run.dir, "config", "zoo.cfg"), "utf8"));
    });

    it("enables the Prometheus provider and its classpath only when the init container copied the jars", () => {
        const without = start({ POD_NAME: "zookeeper-0" });
        expect(without.javaConfig).not.toMatch(/metricsProvider/);
        expect(without.javaArgs.find((a) => a.includes("libs/*"))).toBe("/opt/kafka/libs/*");

        const withJars = start({ POD_NAME: "zookeeper-0" }, true);
        expect(withJars.javaConfig).toMatch(/^metricsProvider\.className=org\.apache\.zookeeper\.metrics\.prometheus\.PrometheusMetricsProvider$/m);
        expect(withJars.javaConfig).toMatch(/^metricsProvider\.httpPort=7000$/m);
        expect(withJars.javaArgs.find((a) => a.includes("libs/*"))).toBe(`/opt/kafka/libs/*:${path.join(withJars.dir, "metrics")}/*`);
    });

    it.each([["512", "256m"], ["2048", "1024m"]])("sizes the heap from a %s Mi memory limit: %s", (limit, heap) => {
        const run = start({ POD_NAME: "zookeeper-0", MEMORY_LIMIT_MB: limit });
        expect(run.javaArgs).toEqual(expect.arrayContaining([`-Xms${heap}`, `-Xmx${heap}`]));
    });

    it("refuses a pod name without ordinal", () => {
        const run = start({ POD_NAME: "zookeeper" });
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(/does not end in a StatefulSet ordinal/);
        expect(run.javaArgs).toEqual([]);
    });
});
