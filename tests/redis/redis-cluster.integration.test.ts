/**
 * The Redis Cluster on real Redis: the rendered pod specs of the dev and prod stacks run by the pod runner
 * (one network and mount namespace per pod, the pod's uid, its ConfigMaps/Secret/emptyDir/PVC at their
 * mount paths), so redis.conf, start.sh, bootstrap.sh and probe.sh are exactly what the pods run.
 *
 * The image `redis:7.2.x` is provided by the host's Debian redis-server (7.0.15: same configuration and
 * CLI surface for what the scripts use). The exporter sidecar's image is not provided and is skipped.
 * The test process reaches pod IPs through the sandbox bridge, like an in-cluster client; the dev shape is
 * also reached through the emulated NodePort on 127.0.0.1:7000, like a developer on the kind host.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis, { Cluster } from "ioredis";
import { PodSandbox } from "../harness/pod-runner";
import { renderIsolated, RenderedStack } from "../helpers/render";

jest.setTimeout(240_000);

/** Exercises redis.conf quoting and shell quoting: a double quote, a backslash, dollars. */
const PASSWORD = 'it-"redis"\\pa$$word-0123';
const NODES = "redis-cluster";
const BOOTSTRAP = "redis-cluster-bootstrap";
const CLIENT_PORT = 7000;
const KEY_COUNT = 600;

interface ClusterNode {
    id: string;
    address: string;
    flags: string[];
    masterId: string;
    linkState: string;
    slots: string[];
}

function parseNodes(text: string): ClusterNode[] {
    return text.trim().split("\n").map((line) => {
        const fields = line.trim().split(" ");
        return { id: fields[0], address: fields[1].split("@")[0], flags: fields[2].split(","), masterId: fields[3], linkState: fields[7], slots: fields.slice(8) };
    });
}

function parseInfo(text: string): Record<string, string> {
    return Object.fromEntries(text.split(/\r?\n/).filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value, or throws with the last failure after `timeoutMs`. */
async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const result = await check();
            if (result !== undefined) {
                return result;
            }
        } catch (error) {
            last = error;
        }
        if (Date.now() >= deadline) {
            throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ""}`);
        }
        await sleep(intervalMs);
    }
}

/** One short-lived connection to one node, from the test process through the bridge. */
async function onNode<T>(ip: string, use: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({ host: ip, port: CLIENT_PORT, password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
    redis.on("error", () => undefined);
    try {
        await redis.connect();
        return await use(redis);
    } finally {
        redis.disconnect();
    }
}

const clusterInfo = (ip: string) => onNode(ip, async (r) => parseInfo(await r.cluster("INFO") as string));
const clusterNodes = (ip: string) => onNode(ip, async (r) => parseNodes(await r.cluster("NODES") as string));

function clusterClient(startupIps: string[], natMap?: (key: string) => { host: string; port: number } | null): Cluster {
    const cluster = new Cluster(startupIps.map((host) => ({ host, port: CLIENT_PORT })), {
        redisOptions: { password: PASSWORD, connectTimeout: 2000, maxRetriesPerRequest: 2 },
        natMap,
        slotsRefreshTimeout: 2000,
        retryDelayOnFailover: 300,
        retryDelayOnClusterDown: 300,
        maxRedirections: 32,
        clusterRetryStrategy: (times) => (times > 40 ? null : 250),
    });
    cluster.on("error", () => undefined);
    return cluster;
}

async function writeKeys(cluster: Cluster, prefix: string): Promise<void> {
    for (let i = 0; i < KEY_COUNT; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => cluster.set(`${prefix}:${i + j}`, `value-${i + j}`)));
    }
}

/** Every key written by writeKeys, read back; returns how many were missing or wrong. */
async function missingKeys(cluster: Cluster, prefix: string): Promise<number> {
    let missing = 0;
    for (let i = 0; i < KEY_COUNT; i += 100) {
        const values = await Promise.all(Array.from({ length: 100 }, (_, j) => cluster.get(`${prefix}:${i + j}`)));
        missing += values.filter((v, j) => v !== `value-${i + j}`).length;
    }
    return missing;
}

async function allKeysReadable(startupIps: string[], prefix: string, timeoutMs: number): Promise<void> {
    await eventually(`all ${KEY_COUNT} keys readable`, timeoutMs, async () => {
        const cluster = clusterClient(startupIps);
        try {
            return (await missingKeys(cluster, prefix)) === 0 ? true : undefined;
        } finally {
            cluster.disconnect();
        }
    }, 500);
}

function sandboxFor(rendered: RenderedStack, workDir: string): Promise<PodSandbox> {
    const sts = rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === NODES)!;
    const image: string = sts.spec.template.spec.containers.find((c: any) => c.name === "redis").image;
    return PodSandbox.create({
        manifests: rendered.manifests,
        workDir,
        // The official image's ENV PATH and WORKDIR; its binaries are the host's redis-server and redis-cli.
        images: { [image]: { env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }, workingDir: "/data" } },
        secretValues: { "redis-cluster-auth": { password: PASSWORD } },
    });
}

/** Runs the bootstrap Job's pod to completion; returns its log. Fails unless it exits 0. */
async function runBootstrap(sandbox: PodSandbox, timeoutMs: number): Promise<string> {
    const pod = await sandbox.startPod(BOOTSTRAP);
    try {
        await eventually("bootstrap Job finished", timeoutMs, async () => (sandbox.isRunning(pod, "bootstrap") ? undefined : true), 200)
            .catch((err: Error) => Promise.reject(new Error(`${err.message}\nbootstrap log:\n${sandbox.logs(pod, "bootstrap")}`)));
        const exit = sandbox.events(pod).filter((e) => e.includes("container bootstrap exited")).pop();
        expect({ exit, log: sandbox.logs(pod, "bootstrap") }).toEqual({ exit: expect.stringContaining("exited (0)"), log: expect.any(String) });
        return sandbox.logs(pod, "bootstrap");
    } finally {
        await sandbox.stopPod(pod, "SIGKILL");
    }
}

const probes = async (sandbox: PodSandbox, pod: string) => ({
    liveness: await sandbox.probe(pod, "redis", "liveness"),
    readiness: await sandbox.probe(pod, "redis", "readiness"),
});

/** The cluster's shape independent of addresses: who is master of which slots, who replicates whom. */
function topology(nodes: ClusterNode[]): string[] {
    return nodes.map((n) => `${n.id} ${n.flags.filter((f) => f !== "myself").join(",")} ${n.masterId} ${n.slots.join(" ")}`).sort();
}

/** Logs and PVC folders stay for inspection when BSS_KEEP_WORKDIR is set. */
function removeWorkDir(dir: string | undefined): void {
    if (dir && !process.env.BSS_KEEP_WORKDIR) {
        fs.rmSync(dir, { recursive: true, force: true });
    } else if (dir) {
        console.log(`kept ${dir}`);
    }
}

function newWorkDir(name: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `bss-redis-${name}-`));
}

describe("dev shape: one node owning all 16384 slots", () => {
    let sandbox: PodSandbox;
    let workDir: string;
    const pod = `${NODES}-0`;

    beforeAll(async () => {
        const rendered = await renderIsolated("dev");
        workDir = newWorkDir("dev");
        sandbox = await sandboxFor(rendered, workDir);
    });

    afterAll(async () => {
        await sandbox?.destroy();
        removeWorkDir(workDir);
    });

    it("is alive but not ready before the bootstrap, then forms, announces its IP and turns ready", async () => {
        await sandbox.startPod(NODES, 0);
        expect(sandbox.skippedContainers(pod)).toEqual([expect.stringMatching(/^metrics /)]);
        await eventually("liveness", 20_000, async () => ((await probes(sandbox, pod)).liveness ? true : undefined));
        expect(await probes(sandbox, pod)).toEqual({ liveness: true, readiness: false });
        expect((await clusterInfo(sandbox.ip(pod))).cluster_state).toBe("fail");

        const log = await runBootstrap(sandbox, 120_000);
        expect(log).toContain("one master");
        await sandbox.waitReady(pod, "redis", 30_000);
        expect(await probes(sandbox, pod)).toEqual({ liveness: true, readiness: true });

        const info = await clusterInfo(sandbox.ip(pod));
        expect([info.cluster_state, info.cluster_slots_assigned, info.cluster_slots_ok, info.cluster_known_nodes]).toEqual(["ok", "16384", "16384", "1"]);
        const [self] = await clusterNodes(sandbox.ip(pod));
        expect(self).toMatchObject({ address: `${sandbox.ip(pod)}:${CLIENT_PORT}`, slots: ["0-16383"] });
    });

    it("keeps the password off command lines, logs and the ConfigMap, in a 0600 runtime include of the redis user", async () => {
        const include = await sandbox.exec(pod, "redis", ["stat", "-c", "%a %u", "/run/redis/redis.conf"]);
        expect(include.stdout.trim()).toBe("600 999");
        // No PID namespace in the sandbox: the server's and its start script's command lines are in the host's /proc.
        const serverPid = Number(parseInfo(await onNode(sandbox.ip(pod), (r) => r.info("server"))).process_id);
        const parentPid = Number(fs.readFileSync(`/proc/${serverPid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
        const cmdline = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
        expect(cmdline(serverPid)).toMatch(/^redis-server \*:7000/);
        expect(cmdline(parentPid)).toBe("/bin/bash /opt/redis-cluster/start.sh");
        expect(sandbox.logs(pod, "redis")).not.toContain(PASSWORD);
        const config = await sandbox.exec(pod, "redis", ["cat", "/usr/local/etc/redis/redis.conf"]);
        expect(config.stdout).toContain("cluster-enabled yes");
        expect(config.stdout).not.toContain(PASSWORD);
    });

    it("refuses clients without the password", async () => {
        const anonymous = new Redis({ host: sandbox.ip(pod), port: CLIENT_PORT, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
        anonymous.on("error", () => undefined);
        try {
            await anonymous.connect();
            await expect(anonymous.get("any")).rejects.toThrow(/NOAUTH/);
        } finally {
            anonymous.disconnect();
        }
    });

    it("serves a cluster client on the host through the NodePort (127.0.0.1:7000) with a NAT map, and keeps keys across a SIGKILL via the AOF", async () => {
        await sandbox.exposeNodePort("redis-cluster-external", CLIENT_PORT, CLIENT_PORT, "127.0.0.1");
        // The node announces its pod IP, which the host cannot reach on a real cluster: map every node to the NodePort.
        const viaNodePort = () => clusterClient(["127.0.0.1"], () => ({ host: "127.0.0.1", port: CLIENT_PORT }));
        const writer = viaNodePort();
        try {
            await writeKeys(writer, "dev");
            expect(await missingKeys(writer, "dev")).toBe(0);
        } finally {
            writer.disconnect();
        }
        await sleep(1500); // appendfsync everysec
        const oldIp = sandbox.ip(pod);
        await sandbox.stopPod(pod, "SIGKILL");
        expect(fs.existsSync(path.join(workDir, "pvc", `data-${pod}`, "dump.rdb"))).toBe(false);

        await sandbox.startPod(NODES, 0);
        expect(sandbox.ip(pod)).not.toBe(oldIp);
        await sandbox.waitReady(pod, "redis", 30_000);
        expect(sandbox.logs(pod, "redis")).toMatch(/DB loaded from append only file/);
        const [self] = await clusterNodes(sandbox.ip(pod));
        expect(self.address).toBe(`${sandbox.ip(pod)}:${CLIENT_PORT}`);

        const reader = viaNodePort();
        try {
            expect(await missingKeys(reader, "dev")).toBe(0);
        } finally {
            reader.disconnect();
        }
    });

    it("leaves the formed cluster untouched when the bootstrap runs again", async () => {
        const before = topology(await clusterNodes(sandbox.ip(pod)));
        const log = await runBootstrap(sandbox, 120_000);
        expect(log).toContain("nothing to do");
        expect(topology(await clusterNodes(sandbox.ip(pod)))).toEqual(before);
    });
});

describe("prod shape: 3 masters x 1 replica", () => {
    let sandbox: PodSandbox;
    let workDir: string;
    let nodeTimeoutMs: number;
    const pods = Array.from({ length: 6 }, (_, i) => `${NODES}-${i}`);
    const ips = () => pods.map((p) => sandbox.ip(p));
    const podOf = (address: string) => pods.find((p) => `${sandbox.ip(p)}:${CLIENT_PORT}` === address)!;

    beforeAll(async () => {
        const rendered = await renderIsolated("prod");
        const sts = rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === NODES)!;
        expect(sts.spec.replicas).toBe(6);
        const conf: string = rendered.manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === "redis-cluster-config")!.data["redis.conf"];
        nodeTimeoutMs = Number(/^cluster-node-timeout (\d+)$/m.exec(conf)![1]);
        workDir = newWorkDir("prod");
        sandbox = await sandboxFor(rendered, workDir);
    });

    afterAll(async () => {
        await sandbox?.destroy();
        removeWorkDir(workDir);
    });

    it("forms from the bootstrap Job: all slots covered, each replica on a distinct master", async () => {
        await Promise.all(pods.map((_, i) => sandbox.startPod(NODES, i)));
        for (const pod of pods) {
            await eventually(`liveness of ${pod}`, 20_000, async () => ((await probes(sandbox, pod)).liveness ? true : undefined));
            expect(await probes(sandbox, pod)).toEqual({ liveness: true, readiness: false });
        }

        const started = Date.now();
        const log = await runBootstrap(sandbox, 120_000);
        expect(log).toContain("creating 3 masters with 1 replica(s) each");
        for (const pod of pods) {
            await sandbox.waitReady(pod, "redis", 60_000);
        }
        console.log(`prod shape: formed and all 6 pods ready ${Date.now() - started} ms after the bootstrap started`);

        for (const pod of pods) {
            expect(await probes(sandbox, pod)).toEqual({ liveness: true, readiness: true });
            const info = await clusterInfo(sandbox.ip(pod));
            expect([info.cluster_state, info.cluster_slots_assigned, info.cluster_slots_ok, info.cluster_known_nodes, info.cluster_size]).toEqual(["ok", "16384", "16384", "6", "3"]);
        }
        const nodes = await clusterNodes(sandbox.ip(pods[0]));
        expect(nodes.map((n) => n.address).sort()).toEqual(ips().map((ip) => `${ip}:${CLIENT_PORT}`).sort());
        const masters = nodes.filter((n) => n.flags.includes("master"));
        const replicas = nodes.filter((n) => n.flags.includes("slave"));
        expect(masters).toHaveLength(3);
        expect(masters.every((m) => m.slots.length > 0)).toBe(true);
        expect(new Set(replicas.map((r) => r.masterId))).toEqual(new Set(masters.map((m) => m.id)));
    });

    it("stores keys written through a cluster client on all three masters", async () => {
        const cluster = clusterClient(ips());
        try {
            await writeKeys(cluster, "prod");
            expect(await missingKeys(cluster, "prod")).toBe(0);
        } finally {
            cluster.disconnect();
        }
        const masters = (await clusterNodes(sandbox.ip(pods[0]))).filter((n) => n.flags.includes("master"));
        const sizes = await Promise.all(masters.map((m) => onNode(m.address.split(":")[0], (r) => r.dbsize())));
        expect(sizes.every((n) => n > 0)).toBe(true);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(KEY_COUNT);
    });

    it("promotes the replica of a SIGKILLed master and keeps every key readable, within 2 x cluster-node-timeout + 5 s", async () => {
        const nodes = await clusterNodes(sandbox.ip(pods[0]));
        const victim = nodes.find((n) => n.flags.includes("master"))!;
        const replica = nodes.find((n) => n.masterId === victim.id)!;
        const victimPod = podOf(victim.address);
        const replicaPod = podOf(replica.address);
        await sleep(1500); // appendfsync everysec on the replica too
        const bound = 2 * nodeTimeoutMs + 5000;

        const killed = Date.now();
        await sandbox.stopPod(victimPod, "SIGKILL");
        await eventually(`${replicaPod} promoted`, bound, async () => ((await onNode(sandbox.ip(replicaPod), (r) => r.role()))[0] === "master" ? true : undefined), 100);
        const promotedAfter = Date.now() - killed;
        const survivors = pods.filter((p) => p !== victimPod).map((p) => sandbox.ip(p));
        await eventually("cluster_state ok on every survivor", bound, async () => {
            const states = await Promise.all(survivors.map((ip) => clusterInfo(ip)));
            return states.every((s) => s.cluster_state === "ok") ? true : undefined;
        }, 100);
        await allKeysReadable(survivors, "prod", Math.max(1000, bound - (Date.now() - killed)));
        const readableAfter = Date.now() - killed;
        console.log(`prod shape: master ${victimPod} SIGKILLed; ${replicaPod} promoted after ${promotedAfter} ms, all keys readable after ${readableAfter} ms (bound ${bound} ms, cluster-node-timeout ${nodeTimeoutMs} ms)`);

        await sandbox.startPod(NODES, pods.indexOf(victimPod));
        await sandbox.waitReady(victimPod, "redis", 60_000);
        const rejoined = (await clusterNodes(sandbox.ip(replicaPod))).find((n) => n.id === victim.id)!;
        expect(rejoined).toMatchObject({ address: `${sandbox.ip(victimPod)}:${CLIENT_PORT}`, masterId: replica.id });
        expect(rejoined.flags).toContain("slave");
    });

    it("heals when every node comes back on a new address, with every key (replayed from the AOF)", async () => {
        const before = topology(await clusterNodes(sandbox.ip(pods[0])));
        const oldIps = ips();
        await sleep(1500); // appendfsync everysec
        await Promise.all(pods.map((p) => sandbox.stopPod(p, "SIGKILL")));

        const restarted = Date.now();
        await Promise.all(pods.map((_, i) => sandbox.startPod(NODES, i)));
        expect(ips().filter((ip) => oldIps.includes(ip))).toEqual([]);
        for (const pod of pods) {
            await sandbox.waitReady(pod, "redis", 120_000);
        }
        for (const pod of pods) {
            await eventually(`${pod} sees the whole cluster on the new addresses`, 60_000, async () => {
                const nodes = await clusterNodes(sandbox.ip(pod));
                const whole = nodes.length === 6 && nodes.every((n) => n.linkState === "connected" && !n.flags.some((f) => f.startsWith("fail")));
                return whole && nodes.map((n) => n.address).sort().join() === ips().map((ip) => `${ip}:${CLIENT_PORT}`).sort().join() ? true : undefined;
            });
        }
        console.log(`prod shape: all 6 nodes SIGKILLed and restarted on new IPs; whole again after ${Date.now() - restarted} ms`);
        expect(topology(await clusterNodes(sandbox.ip(pods[0])))).toEqual(before);
        for (const pod of pods) {
            expect(sandbox.logs(pod, "redis")).toMatch(/DB loaded from append only file/);
        }
        await allKeysReadable(ips(), "prod", 30_000);
    });

    it("leaves the cluster untouched when the bootstrap runs again", async () => {
        const before = topology(await clusterNodes(sandbox.ip(pods[0])));
        const log = await runBootstrap(sandbox, 120_000);
        expect(log).toContain("nothing to do");
        expect(topology(await clusterNodes(sandbox.ip(pods[0])))).toEqual(before);
        await allKeysReadable(ips(), "prod", 10_000);
    });
});
