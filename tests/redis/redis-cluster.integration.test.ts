/**
 * The Redis Cluster on the real test cluster (scripts/test-cluster.sh, tests/helpers/test-cluster.ts): the rendered
 * dev and prod objects are applied with `kubectl apply --server-side --validate=strict`; the StatefulSet controller
 * creates the pods, the scheduler places them, the kubelets run start.sh and probe.sh with the pods' own volumes,
 * uid and security context, the bootstrap is the real Job, and Ready is what the kubelet's readiness probe says.
 *
 * The image is the local `localhost/bss-test/redis:7.0.15` (Debian's redis-server; the stack pins `redis:7.2.x`,
 * same configuration and CLI surface for what the scripts use). The exporter sidecar is left out (LEFT_OUT in
 * tests/helpers/cluster-stack.ts). The test process reaches pod IPs directly (this host routes to the nodes'
 * bridges), like an in-cluster client; the dev shape is also reached through kind's port map 127.0.0.1:7000 to the
 * NodePort, like a developer on the kind host. The password is set through the stack's secret config.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import Redis, { Cluster } from "ioredis";
import { RenderedStack, ROOT, stackFile } from "../helpers/render";
import { clusterManifests, renderForCluster } from "../helpers/cluster-stack";
import { eventually, NodeName, NODES, PodInfo, sleep, TestCluster } from "../helpers/test-cluster";
import { StackConfig } from "../../render/render";
import { DRAIN_ANNOTATION, nodeRemovalProblems } from "../../components/redis/scale-guard";
import { drainedIds } from "../../components/shared/scale-in-guard";
import { redisDrain } from "../../scripts/redis-drain";

jest.setTimeout(600_000);

/** Exercises redis.conf quoting and shell quoting: a double quote, a backslash, dollars. */
const PASSWORD = 'it-"redis"\\pa$$word-0123';
/** The part of PASSWORD that survives any escaping (JSON, redis.conf): what must appear nowhere but the Secret. */
const PASSWORD_CORE = "pa$$word-0123";
const NAMESPACE = "bss";
const NODES_SELECTOR = "app.kubernetes.io/name=redis-cluster";
const STATEFUL_SET = "redis-cluster";
const BOOTSTRAP = "redis-cluster-bootstrap";
const CLIENT_PORT = 7000;
const KEY_COUNT = 600;
/** The test cluster's kubectl, for the drain (which runs kubectl as an operator would). */
const KUBECTL = path.join(process.env.TEST_CLUSTER_CACHE ?? path.join(ROOT, ".cache", "test-cluster"), "bin", "kubectl");

let cluster: TestCluster;

beforeAll(async () => {
    cluster = await TestCluster.up();
}, 3_000_000);

afterAll(async () => {
    await cluster?.down();
}, 300_000);

/** A stack file with the test's password as `bss:redisPassword` (secret) and `fields` merged into `bss:redis`. */
function testStack(stack: string, fields: Record<string, unknown> = {}): StackConfig {
    const config = stackFile(stack);
    const redis = config.values["bss:redis"] ? JSON.parse(config.values["bss:redis"]) : {};
    return {
        values: { ...config.values, "bss:redis": JSON.stringify({ ...redis, ...fields }), "bss:redisPassword": PASSWORD },
        secretKeys: [...config.secretKeys.filter((k) => k !== "bss:redisPassword"), "bss:redisPassword"],
    };
}

interface RedisObjects {
    /** Namespace and every Redis object but the Job: the nodes come up unformed. */
    nodes: Record<string, any>[];
    job: Record<string, any>;
    statefulSet: Record<string, any>;
    nodeTimeoutMs: number;
}

/**
 * The stack's Redis objects as the cluster runs them. Network policies stay out: nothing enforces them here unless
 * a test starts kube-router, and tests/network-policy covers them.
 */
function redisObjects(rendered: RenderedStack): RedisObjects {
    const objects = clusterManifests(rendered).filter((m) => m.kind === "Namespace"
        || (m.kind !== "NetworkPolicy" && String(m.metadata?.name ?? "").startsWith("redis-cluster")));
    const secret = objects.find((m) => m.kind === "Secret" && m.metadata.name === "redis-cluster-auth");
    expect(secret?.stringData).toEqual({ password: PASSWORD });
    const conf: string = objects.find((m) => m.kind === "ConfigMap" && m.metadata.name === "redis-cluster-config")!.data["redis.conf"];
    return {
        nodes: objects.filter((m) => m.kind !== "Job"),
        job: objects.find((m) => m.kind === "Job" && m.metadata.name === BOOTSTRAP)!,
        statefulSet: objects.find((m) => m.kind === "StatefulSet" && m.metadata.name === STATEFUL_SET)!,
        nodeTimeoutMs: Number(/^cluster-node-timeout (\d+)$/m.exec(conf)![1]),
    };
}

/** Removes the namespace at once (pods without their grace period): the next shape starts clean. */
async function removeNamespace(): Promise<void> {
    await cluster.kubectlResult(["-n", NAMESPACE, "delete", "pods", "--all", "--grace-period=0", "--force"]);
    await cluster.kubectl(["delete", "namespace", NAMESPACE, "--wait=true", "--timeout=180s"]);
}

interface ClusterNode {
    id: string;
    address: string;
    /** `cluster-announce-hostname`: the Kubernetes node start.sh announces (after the bus port in CLUSTER NODES). */
    hostname: string;
    flags: string[];
    masterId: string;
    linkState: string;
    slots: string[];
}

function parseNodes(text: string): ClusterNode[] {
    return text.trim().split("\n").map((line) => {
        const fields = line.trim().split(" ");
        return { id: fields[0], address: fields[1].split("@")[0], hostname: fields[1].split(",")[1] ?? "", flags: fields[2].split(","), masterId: fields[3], linkState: fields[7], slots: fields.slice(8) };
    });
}

function parseInfo(text: string): Record<string, string> {
    return Object.fromEntries(text.split(/\r?\n/).filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]));
}

/** One short-lived connection to one node's pod IP, from the test process. */
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

/** `commandTimeoutMs`: for clients that may talk to a node whose network is gone (no reset ever comes back). */
function clusterClient(startupIps: string[], natMap?: (key: string) => { host: string; port: number } | null, commandTimeoutMs?: number): Cluster {
    const client = new Cluster(startupIps.map((host) => ({ host, port: CLIENT_PORT })), {
        redisOptions: { password: PASSWORD, connectTimeout: 2000, maxRetriesPerRequest: 2, commandTimeout: commandTimeoutMs },
        natMap,
        slotsRefreshTimeout: 2000,
        retryDelayOnFailover: 300,
        retryDelayOnClusterDown: 300,
        maxRedirections: 32,
        clusterRetryStrategy: (times) => (times > 40 ? null : 250),
    });
    client.on("error", () => undefined);
    return client;
}

async function writeKeys(client: Cluster, prefix: string): Promise<void> {
    for (let i = 0; i < KEY_COUNT; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => client.set(`${prefix}:${i + j}`, `value-${i + j}`)));
    }
}

/** Every key written by writeKeys, read back; returns how many were missing or wrong. */
async function missingKeys(client: Cluster, prefix: string): Promise<number> {
    let missing = 0;
    for (let i = 0; i < KEY_COUNT; i += 100) {
        const values = await Promise.all(Array.from({ length: 100 }, (_, j) => client.get(`${prefix}:${i + j}`)));
        missing += values.filter((v, j) => v !== `value-${i + j}`).length;
    }
    return missing;
}

async function allKeysReadable(connect: () => Cluster, prefix: string, timeoutMs: number): Promise<void> {
    await eventually(`all ${KEY_COUNT} keys readable`, timeoutMs, async () => {
        const client = connect();
        try {
            return (await missingKeys(client, prefix)) === 0;
        } finally {
            client.disconnect();
        }
    }, 500);
}

/**
 * Where the shards run, by the pods' Kubernetes nodes as the API server has them: each master's node and its
 * replicas' nodes. Also checks that every node announces the Kubernetes node its pod runs on.
 */
async function shardPlacement(nodes: ClusterNode[]): Promise<{ masterNodes: string[]; sharedWithMaster: string[] }> {
    const pods = await nodePods();
    const kubeNode = (n: ClusterNode) => {
        const pod = pods.find((p) => `${p.ip}:${CLIENT_PORT}` === n.address);
        expect({ address: n.address, hostname: n.hostname }).toEqual({ address: n.address, hostname: pod?.node });
        return pod!.node;
    };
    const masters = nodes.filter((n) => n.flags.includes("master") && n.slots.length > 0);
    const sharedWithMaster = nodes.filter((n) => n.flags.includes("slave"))
        .filter((r) => kubeNode(r) === kubeNode(masters.find((m) => m.id === r.masterId)!))
        .map((r) => `${r.address} replicates ${r.masterId.slice(0, 8)} on ${kubeNode(r)}`);
    return { masterNodes: masters.map(kubeNode).sort(), sharedWithMaster };
}

interface WriterResult {
    attempts: number;
    /** Key numbers whose SET was answered OK and then WAIT 1 by at least one replica: the writes that count. */
    acknowledged: number[];
    /** Longest time between two acknowledged writes (or the start and the first one, the last one and the stop). */
    longestStallMs: number;
}

/**
 * A writer of numbered keys `<prefix>:<n>` at a steady pace, one at a time: each SET is pipelined with `WAIT 1 500`
 * on the same connection (ioredis sends a pipeline to the node owning its key), and counts as acknowledged only
 * when SET answered OK and at least one replica confirmed it. Anything else (an error, MOVED during a hand-over,
 * no replica in 500 ms, no answer within WRITE_TIMEOUT_MS) is a write that does not count; the writer goes on with
 * the next number. A client that gave up, or failed RECONNECT_AFTER_FAILURES writes in a row (after a full roll
 * every node it knew has moved; an ioredis pipeline then waited 8 minutes for a slot refresh), is replaced by one
 * seeded with the pods' current IPs.
 */
const WRITE_TIMEOUT_MS = 3000;
const RECONNECT_AFTER_FAILURES = 5;

function startWriter(prefix: string): { stop: () => Promise<WriterResult> } {
    const connect = async () => clusterClient((await nodePods()).map((p) => p.ip), undefined, 2000);
    const acknowledged: number[] = [];
    let attempts = 0;
    let stopping = false;
    let lastAck = Date.now();
    let longestStallMs = 0;
    let client: Cluster | undefined;
    let failuresInARow = 0;
    const loop = (async () => {
        for (let n = 0; !stopping; n++) {
            attempts++;
            try {
                if (!client || client.status === "end" || failuresInARow >= RECONNECT_AFTER_FAILURES) {
                    client?.disconnect();
                    client = undefined;
                    failuresInARow = 0;
                    client = await connect();
                }
                const write = client.pipeline().set(`${prefix}:${n}`, `value-${n}`).call("WAIT", ["1", "500"]).exec();
                write.catch(() => undefined);
                const replies = await Promise.race([write, sleep(WRITE_TIMEOUT_MS).then(() => null)]);
                const [set, wait] = replies ?? [];
                if (set && !set[0] && set[1] === "OK" && wait && !wait[0] && Number(wait[1]) >= 1) {
                    acknowledged.push(n);
                    longestStallMs = Math.max(longestStallMs, Date.now() - lastAck);
                    lastAck = Date.now();
                    failuresInARow = 0;
                } else {
                    failuresInARow++;
                }
            } catch {
                failuresInARow++;
                await sleep(100);
            }
            await sleep(25);
        }
    })();
    return {
        stop: async () => {
            stopping = true;
            await loop;
            client?.disconnect();
            return { attempts, acknowledged, longestStallMs: Math.max(longestStallMs, Date.now() - lastAck) };
        },
    };
}

/** How many of the numbered keys are missing or wrong, read through a fresh cluster client. */
async function missingOf(seeds: string[], prefix: string, numbers: number[]): Promise<number[]> {
    const client = clusterClient(seeds);
    try {
        const missing: number[] = [];
        for (let i = 0; i < numbers.length; i += 100) {
            const batch = numbers.slice(i, i + 100);
            const values = await Promise.all(batch.map((n) => client.get(`${prefix}:${n}`)));
            missing.push(...batch.filter((n, j) => values[j] !== `value-${n}`));
        }
        return missing;
    } finally {
        client.disconnect();
    }
}

/** The cluster's shape independent of addresses: who is master of which slots, who replicates whom. */
/**
 * A view from `ip` once the cluster has settled: every node connected and unsuspected, `masters` masters serving
 * slots, every other node a replica of one of them, `replicasPerMaster` each. Right after a failover a view may
 * still show the demoted node as a master without slots until its next gossip says it turned replica: a topology
 * sampled then is a moment, not the cluster's state.
 */
async function settledView(ip: () => Promise<string>, masters: number, replicasPerMaster: number, timeoutMs = 60_000): Promise<ClusterNode[]> {
    return eventually(`a settled cluster of ${masters} masters x ${replicasPerMaster} replica(s)`, timeoutMs, async () => {
        const view = await clusterNodes(await ip());
        const serving = view.filter((n) => n.flags.includes("master") && n.slots.length > 0);
        const replicas = view.filter((n) => n.flags.includes("slave"));
        const settled = view.length === masters * (1 + replicasPerMaster)
            && view.every((n) => n.linkState === "connected" && !n.flags.some((f) => /^(fail|handshake|noaddr)/.test(f)))
            && serving.length === masters && replicas.length === masters * replicasPerMaster
            && serving.every((m) => replicas.filter((r) => r.masterId === m.id).length === replicasPerMaster);
        return settled ? view : undefined;
    }, 250);
}

function topology(nodes: ClusterNode[]): string[] {
    return nodes.map((n) => `${n.id} ${n.flags.filter((f) => f !== "myself").join(",")} ${n.masterId} ${n.slots.join(" ")}`).sort();
}

async function podOrFail(name: string): Promise<PodInfo> {
    const pod = await cluster.pod(NAMESPACE, name);
    if (!pod) {
        throw new Error(`no pod ${NAMESPACE}/${name}`);
    }
    return pod;
}

const nodePods = async () => (await cluster.pods(NAMESPACE, NODES_SELECTOR)).filter((p) => !p.deleting);
const podLog = (pod: string) => cluster.kubectl(["-n", NAMESPACE, "logs", pod, "-c", "redis"]);

const compactView = (nodes: ClusterNode[]) =>
    nodes.map((n) => `  ${n.id.slice(0, 8)} ${n.address} ${n.flags.join(",")} master=${n.masterId.slice(0, 8)} ${n.linkState} ${n.slots.join(" ")}`).join("\n");

/** Every pod's own view of the cluster and its start.sh lines: which node is stuck, and on what. */
async function healDiagnosis(pods: PodInfo[]): Promise<string> {
    const parts = await Promise.all(pods.map(async (pod) => {
        const view = await clusterNodes(pod.ip).then(compactView, (error: Error) => `  (no answer: ${error.message})`);
        const log = await podLog(pod.name).catch((error: Error) => error.message);
        const scriptLines = log.split("\n").filter((line) => line.includes("start.sh:")).join("\n");
        return `${pod.name} (${pod.ip}) view:\n${view}\n${pod.name} start.sh:\n${scriptLines}`;
    }));
    return parts.join("\n");
}

/** The messages of the kubelet's probe failures (`reason=Unhealthy` events) for one pod instance. */
async function probeFailures(pod: PodInfo): Promise<string> {
    return cluster.kubectl(["-n", NAMESPACE, "get", "events", "--field-selector", `involvedObject.uid=${pod.uid},reason=Unhealthy`,
        "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}"]);
}

/** Runs a probe's own command (from the rendered container) in the container, as the kubelet does. */
async function runProbe(statefulSet: Record<string, any>, pod: string, kind: "livenessProbe" | "readinessProbe"): Promise<{ code: number; output: string }> {
    const container = statefulSet.spec.template.spec.containers.find((c: any) => c.name === "redis");
    const result = await cluster.exec(NAMESPACE, pod, "redis", container[kind].exec.command);
    return { code: result.code, output: result.stdout.trim() };
}

/**
 * Before the bootstrap: every pod Running, its container never restarted, the liveness probe passing, and the
 * kubelet's readiness probe failing on `cluster_state: fail` (the kubelet keeps the pod out of Ready).
 */
async function expectAliveButUnready(statefulSet: Record<string, any>, names: string[]): Promise<void> {
    for (const name of names) {
        const failures = await eventually(`the kubelet's readiness probe of ${name} failing on cluster_state`, 120_000, async () => {
            const pod = await cluster.pod(NAMESPACE, name);
            const messages = pod?.phase === "Running" ? await probeFailures(pod) : "";
            return messages.includes("Readiness probe failed: cluster_state: fail") ? messages : undefined;
        }, 1_000);
        expect(failures).not.toMatch(/Liveness probe failed/);
        const pod = await podOrFail(name);
        expect({ phase: pod.phase, ready: pod.ready, restarts: pod.restarts }).toEqual({ phase: "Running", ready: false, restarts: 0 });
        expect(await runProbe(statefulSet, name, "livenessProbe")).toEqual({ code: 0, output: "" });
        expect(await runProbe(statefulSet, name, "readinessProbe")).toEqual({ code: 1, output: "cluster_state: fail" });
    }
}

/**
 * Runs the bootstrap Job to completion (deleting a finished one first: a Job runs once); returns its log.
 * Fails unless the Job completes with one succeeded pod and none failed.
 */
async function runBootstrap(job: Record<string, any>, timeoutMs = 300_000): Promise<string> {
    await cluster.kubectl(["-n", NAMESPACE, "delete", "job", BOOTSTRAP, "--ignore-not-found", "--cascade=foreground", "--wait=true", "--timeout=120s"]);
    await cluster.apply([job]);
    // The first attempt's log, followed while it runs: when the container exits non-zero and restarts in the same pod
    // (restartPolicy OnFailure), the kubelet may already have removed the exited container, and `logs --previous`
    // has nothing left to show.
    const attempt = { log: "", done: false, follower: undefined as ReturnType<typeof spawn> | undefined };
    const followed = (async () => {
        while (!attempt.done) {
            const follower = spawn(KUBECTL, ["--kubeconfig", cluster.kubeconfig, "-n", NAMESPACE, "logs", "--follow", `job/${BOOTSTRAP}`, "-c", "bootstrap"], { stdio: ["ignore", "pipe", "pipe"] });
            attempt.follower = follower;
            let out = "";
            let err = "";
            follower.stdout!.on("data", (chunk: Buffer) => { out += chunk.toString(); });
            follower.stderr!.on("data", (chunk: Buffer) => { err += chunk.toString(); });
            await new Promise<void>((resolve) => {
                follower.on("error", (error) => { err += String(error); resolve(); });
                follower.on("close", () => resolve());
            });
            if (out !== "") {
                attempt.log = out;
                return;
            }
            // No pod yet, or its container still being created: ask again.
            await sleep(/waiting to start|not found|no pods|timed out/i.test(err) ? 300 : 1_000);
        }
    })();
    let finished: Awaited<ReturnType<TestCluster["jobFinished"]>>;
    try {
        finished = await cluster.jobFinished(NAMESPACE, BOOTSTRAP, timeoutMs);
    } finally {
        attempt.done = true;
        await Promise.race([followed, sleep(5_000)]);
        attempt.follower?.kill();
    }
    const { complete, status } = finished;
    let log = await cluster.kubectl(["-n", NAMESPACE, "logs", `job/${BOOTSTRAP}`, "-c", "bootstrap"]);
    expect({ complete, succeeded: status.succeeded, failed: status.failed ?? 0, log }).toEqual({ complete: true, succeeded: 1, failed: 0, log: expect.any(String) });
    const pod = (await cluster.json(["-n", NAMESPACE, "get", "pods", "--selector", `job-name=${BOOTSTRAP}`])).items[0];
    const restarts: number = pod?.status?.containerStatuses?.[0]?.restartCount ?? 0;
    if (restarts > 0) {
        const reason = JSON.stringify(pod.status.containerStatuses[0].lastState ?? {});
        console.log(`bootstrap Job: the container restarted ${restarts} time(s); last state ${reason}; the first attempt's log:\n${attempt.log}`);
        log = `${attempt.log}\n${log}`;
    }
    return log;
}

/** Applies a Job, waits until it completes or fails, and returns whether it completed and its container's log. */
async function runJob(job: Record<string, any>, timeoutMs: number): Promise<{ complete: boolean; log: string }> {
    const name: string = job.metadata.name;
    await cluster.apply([job]);
    const { complete } = await cluster.jobFinished(NAMESPACE, name, timeoutMs);
    return { complete, log: await cluster.kubectl(["-n", NAMESPACE, "logs", `job/${name}`]) };
}

/** Every key of the cluster and its value, read from each master serving slots (SCAN, then GET one by one). */
async function everyEntry(ip: string): Promise<Map<string, string>> {
    const masters = (await clusterNodes(ip)).filter((n) => n.flags.includes("master") && n.slots.length > 0);
    const entries = new Map<string, string>();
    for (const master of masters) {
        await onNode(master.address.split(":")[0], async (redis) => {
            let cursor = "0";
            do {
                const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
                cursor = next;
                const values = await redis.pipeline(keys.map((key) => ["get", key])).exec();
                keys.forEach((key, i) => entries.set(key, String(values![i][1])));
            } while (cursor !== "0");
        });
    }
    return entries;
}

/** Every string inside a parsed object, for searching values that JSON or YAML text would escape. */
function strings(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    if (value && typeof value === "object") {
        return Object.values(value).flatMap(strings);
    }
    return [];
}

async function withCordoned<T>(nodes: string[], body: () => Promise<T>): Promise<T> {
    for (const node of nodes) {
        await cluster.kubectl(["cordon", node]);
    }
    try {
        return await body();
    } finally {
        for (const node of nodes) {
            await cluster.kubectl(["uncordon", node]);
        }
    }
}

/**
 * A crash that stays down: SIGKILL to the pod's containers, then the pod deleted at once, so the kubelet does not
 * start them again in the same pod. Its node must be cordoned: the replacement the StatefulSet controller creates is
 * pinned there by its volume (local-path PVs carry node affinity), so it stays Pending until the node is uncordoned,
 * and it comes back on a new IP. Stopping the node instead (cluster.stopNode) would take the pod's neighbour (a
 * replica of another master) with it and keep the old pod object until the node returns: that is a node loss, not
 * a crash of one node. Resolves once the old pod is gone.
 */
async function crashAndKeepDown(names: string[]): Promise<void> {
    const before = await Promise.all(names.map(podOrFail));
    await Promise.all(names.map(async (name) => {
        await cluster.crashContainer(NAMESPACE, name, "redis");
        await cluster.kubectl(["-n", NAMESPACE, "delete", "pod", name, "--wait=false"]);
    }));
    await eventually(`${names.join(", ")} gone, replacements Pending`, 120_000, async () => {
        const pods = await cluster.pods(NAMESPACE, NODES_SELECTOR);
        return names.every((name) => {
            const now = pods.find((p) => p.name === name);
            return !now || (now.uid !== before.find((b) => b.name === name)!.uid && now.node === "");
        });
    }, 500);
}

describe("dev shape: one node owning all 16384 slots", () => {
    const pod = `${STATEFUL_SET}-0`;
    let objects: RedisObjects;
    const ip = async () => (await podOrFail(pod)).ip;
    // The node announces its pod IP, which a kind host cannot reach: map every node to kind's port map of the NodePort.
    const viaNodePort = () => clusterClient(["127.0.0.1"], () => ({ host: "127.0.0.1", port: CLIENT_PORT }));

    beforeAll(async () => {
        objects = redisObjects(await renderForCluster("dev", testStack("dev")));
        expect(objects.statefulSet.spec.replicas).toBe(1);
    });

    afterAll(async () => {
        await removeNamespace();
    });

    it("is alive but not ready before the bootstrap, then forms, announces its IP and turns ready", async () => {
        const { warnings } = await cluster.apply(objects.nodes);
        expect(warnings.trim()).toBe("");
        await expectAliveButUnready(objects.statefulSet, [pod]);
        expect((await clusterInfo(await ip())).cluster_state).toBe("fail");

        const log = await runBootstrap(objects.job);
        expect(log).toContain("one master");
        await cluster.waitPodReady(NAMESPACE, pod, 60_000);
        expect(await runProbe(objects.statefulSet, pod, "readinessProbe")).toEqual({ code: 0, output: "" });

        const info = await clusterInfo(await ip());
        expect([info.cluster_state, info.cluster_slots_assigned, info.cluster_slots_ok, info.cluster_known_nodes]).toEqual(["ok", "16384", "16384", "1"]);
        const [self] = await clusterNodes(await ip());
        expect(self).toMatchObject({ address: `${await ip()}:${CLIENT_PORT}`, slots: ["0-16383"] });
    });

    it("keeps the password off command lines, logs and ConfigMaps, in a 0600 runtime include of the redis user", async () => {
        const include = await cluster.exec(NAMESPACE, pod, "redis", ["stat", "-c", "%a %u", "/run/redis/redis.conf"]);
        expect(include.stdout.trim()).toBe("600 999");
        const includeText = await cluster.exec(NAMESPACE, pod, "redis", ["cat", "/run/redis/redis.conf"]);
        expect(includeText.stdout).toContain(PASSWORD_CORE);

        // The container's own PID namespace: start.sh is PID 1, redis-server its child.
        const serverPid = Number(parseInfo(await onNode(await ip(), (r) => r.info("server"))).process_id);
        const proc = async (file: string) => (await cluster.exec(NAMESPACE, pod, "redis", ["cat", file])).stdout;
        const cmdline = async (pid: number) => (await proc(`/proc/${pid}/cmdline`)).split("\0").join(" ").trim();
        expect(Number((await proc(`/proc/${serverPid}/stat`)).split(") ")[1].split(" ")[1])).toBe(1);
        expect(await cmdline(serverPid)).toMatch(/^redis-server \*:7000/);
        expect(await cmdline(1)).toBe("/bin/bash /opt/redis-cluster/start.sh");
        const everyCmdline = await cluster.exec(NAMESPACE, pod, "redis", ["bash", "-c", "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <\"$f\"; echo; done"]);
        expect(everyCmdline.stdout).toContain("redis-server");
        expect(everyCmdline.stdout).not.toContain(PASSWORD_CORE);

        expect(await podLog(pod)).not.toContain(PASSWORD_CORE);
        expect(await cluster.kubectl(["-n", NAMESPACE, "logs", `job/${BOOTSTRAP}`, "-c", "bootstrap"])).not.toContain(PASSWORD_CORE);
        const config = await cluster.exec(NAMESPACE, pod, "redis", ["cat", "/usr/local/etc/redis/redis.conf"]);
        expect(config.stdout).toContain("cluster-enabled yes");
        expect(config.stdout).not.toContain(PASSWORD_CORE);

        // As the API server holds them: only the Secret carries the password (the search does find it there).
        const holders = async (kind: string) => (await cluster.json(["-n", NAMESPACE, "get", kind])).items
            .filter((o: any) => strings(o).some((s) => s.includes(PASSWORD_CORE))).map((o: any) => `${kind}/${o.metadata.name}`);
        const secrets = (await cluster.json(["-n", NAMESPACE, "get", "secret", "redis-cluster-auth"])).data;
        expect(Buffer.from(secrets.password, "base64").toString()).toBe(PASSWORD);
        for (const kind of ["configmaps", "statefulsets", "jobs", "pods", "services"]) {
            expect(await holders(kind)).toEqual([]);
        }
    });

    it("refuses clients without the password", async () => {
        const anonymous = new Redis({ host: await ip(), port: CLIENT_PORT, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
        anonymous.on("error", () => undefined);
        try {
            await anonymous.connect();
            await expect(anonymous.get("any")).rejects.toThrow(/NOAUTH/);
        } finally {
            anonymous.disconnect();
        }
    });

    it("serves a cluster client on the host through kind's port map to the NodePort (127.0.0.1:7000), and keeps keys across a SIGKILL via the AOF", async () => {
        const writer = viaNodePort();
        try {
            await writeKeys(writer, "dev");
            expect(await missingKeys(writer, "dev")).toBe(0);
        } finally {
            writer.disconnect();
        }
        await sleep(1500); // appendfsync everysec
        const before = await podOrFail(pod);
        await cluster.crashContainer(NAMESPACE, pod, "redis");
        const after = await eventually(`${pod} restarted by the kubelet and Ready`, 120_000, async () => {
            const now = await podOrFail(pod);
            return now.restarts > before.restarts && now.ready ? now : undefined;
        }, 1_000);
        expect({ uid: after.uid, ip: after.ip }).toEqual({ uid: before.uid, ip: before.ip });
        expect(await podLog(pod)).toMatch(/DB loaded from append only file/);
        // The SIGKILL left no chance for a shutdown snapshot: what came back was replayed from the AOF.
        expect((await cluster.exec(NAMESPACE, pod, "redis", ["ls", "-A", "/data"])).stdout.split("\n")).not.toContain("dump.rdb");
        await allKeysReadable(viaNodePort, "dev", 30_000);
    });

    it("comes back in a new pod on a new IP, announces that IP and keeps every key", async () => {
        const before = await podOrFail(pod);
        await cluster.deletePod(NAMESPACE, pod);
        const after = await cluster.waitPodReady(NAMESPACE, pod, 120_000);
        expect(after.uid).not.toBe(before.uid);
        expect(after.ip).not.toBe(before.ip);
        expect(after.node).toBe(before.node);
        expect(await podLog(pod)).toMatch(/DB loaded from append only file/);
        const [self] = await clusterNodes(after.ip);
        expect(self.address).toBe(`${after.ip}:${CLIENT_PORT}`);
        await allKeysReadable(viaNodePort, "dev", 30_000);
    });

    it("leaves the formed cluster untouched when the bootstrap runs again", async () => {
        const before = topology(await clusterNodes(await ip()));
        const log = await runBootstrap(objects.job);
        expect(log).toContain("every node already belongs to the cluster: no node to join");
        expect(topology(await clusterNodes(await ip()))).toEqual(before);
    });
});

describe("prod shape: 3 masters x 1 replica, then 4", () => {
    const pods = Array.from({ length: 6 }, (_, i) => `${STATEFUL_SET}-${i}`);
    let objects: RedisObjects;
    /** `bss:redis` fields `objects` was rendered with beyond the prod stack's. */
    let fields: Record<string, unknown> = {};
    /** The keys the scale-out's writer had acknowledged: they must survive the scale-in too. */
    let grownAcknowledged: number[] = [];
    const ips = async () => (await nodePods()).map((p) => p.ip);
    const podOf = async (address: string) => (await nodePods()).find((p) => `${p.ip}:${CLIENT_PORT}` === address)!;

    beforeAll(async () => {
        // The prod default placement: a node spread of at most one pod more per node (DoNotSchedule), zones preferred.
        objects = redisObjects(await renderForCluster("prod", testStack("prod")));
        expect(objects.statefulSet.spec.replicas).toBe(6);
        expect(objects.statefulSet.spec.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule" });
    });

    afterAll(async () => {
        await removeNamespace();
    });

    it("schedules all six pods on the three nodes, two per node; forms from the bootstrap Job: all slots covered, each replica on a distinct master on another node, one master per node", async () => {
        const { warnings } = await cluster.apply(objects.nodes);
        expect(warnings.trim()).toBe("");
        await expectAliveButUnready(objects.statefulSet, pods);
        const placed = await nodePods();
        expect(placed.map((p) => p.name)).toEqual(pods);
        expect(NODES.map((node) => placed.filter((p) => p.node === node).length)).toEqual([2, 2, 2]);

        const started = Date.now();
        const log = await runBootstrap(objects.job);
        expect(log).toContain("creating 3 masters with 1 replica(s) each");
        const jobDoneMs = Date.now() - started;
        await cluster.waitReady(NAMESPACE, NODES_SELECTOR, 6, 120_000);
        console.log(`prod shape: bootstrap Job complete ${jobDoneMs} ms after it was applied, all 6 pods Ready (kubelet) after ${Date.now() - started} ms`);

        for (const pod of await nodePods()) {
            const info = await clusterInfo(pod.ip);
            expect([info.cluster_state, info.cluster_slots_assigned, info.cluster_slots_ok, info.cluster_known_nodes, info.cluster_size]).toEqual(["ok", "16384", "16384", "6", "3"]);
        }
        const nodes = await clusterNodes((await ips())[0]);
        expect(nodes.map((n) => n.address).sort()).toEqual((await ips()).map((ip) => `${ip}:${CLIENT_PORT}`).sort());
        const masters = nodes.filter((n) => n.flags.includes("master"));
        const replicas = nodes.filter((n) => n.flags.includes("slave"));
        expect(masters).toHaveLength(3);
        expect(masters.every((m) => m.slots.length > 0)).toBe(true);
        expect(new Set(replicas.map((r) => r.masterId))).toEqual(new Set(masters.map((m) => m.id)));
        expect(await shardPlacement(nodes)).toEqual({ masterNodes: [...NODES], sharedWithMaster: [] });
        expect(log).toMatch(/replica: redis-cluster-\d\.redis-cluster-headless\S* on node-[abc] follows redis-cluster-\d\.redis-cluster-headless\S* on node-[abc]/);
        expect(log).not.toContain("WARNING");
    });

    it("stores keys written through a cluster client on all three masters", async () => {
        const client = clusterClient(await ips());
        try {
            await writeKeys(client, "prod");
            expect(await missingKeys(client, "prod")).toBe(0);
        } finally {
            client.disconnect();
        }
        const masters = (await clusterNodes((await ips())[0])).filter((n) => n.flags.includes("master"));
        const sizes = await Promise.all(masters.map((m) => onNode(m.address.split(":")[0], (r) => r.dbsize())));
        expect(sizes.every((n) => n > 0)).toBe(true);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(KEY_COUNT);
    });

    it("promotes the replica of a SIGKILLed master and keeps every key readable, within 2 x cluster-node-timeout + 5 s; the old master rejoins and takes its slots back, one master per node again", async () => {
        const nodes = await clusterNodes((await ips())[0]);
        const victim = nodes.find((n) => n.flags.includes("master"))!;
        const replica = nodes.find((n) => n.masterId === victim.id)!;
        const victimPod = await podOf(victim.address);
        const replicaPod = await podOf(replica.address);
        const survivors = (await nodePods()).filter((p) => p.name !== victimPod.name).map((p) => p.ip);
        await sleep(1500); // appendfsync everysec on the replica too
        const bound = 2 * objects.nodeTimeoutMs + 5000;

        await withCordoned([victimPod.node], async () => {
            const killed = Date.now();
            await crashAndKeepDown([victimPod.name]);
            await eventually(`${replicaPod.name} promoted`, bound, async () => (await onNode(replicaPod.ip, (r) => r.role()))[0] === "master", 100);
            const promotedAfter = Date.now() - killed;
            await eventually("cluster_state ok on every survivor", bound, async () =>
                (await Promise.all(survivors.map(clusterInfo))).every((s) => s.cluster_state === "ok"), 100);
            await allKeysReadable(() => clusterClient(survivors), "prod", Math.max(1000, bound - (Date.now() - killed)));
            const readableAfter = Date.now() - killed;
            console.log(`prod shape: master ${victimPod.name} SIGKILLed and kept down; ${replicaPod.name} promoted after ${promotedAfter} ms, all keys readable after ${readableAfter} ms (bound ${bound} ms, cluster-node-timeout ${objects.nodeTimeoutMs} ms)`);
            // Still down: its replacement waits for the cordoned node that holds its volume.
            expect(await cluster.pod(NAMESPACE, victimPod.name)).toMatchObject({ phase: "Pending", node: "" });
        });

        const back = await cluster.waitPodReady(NAMESPACE, victimPod.name, 180_000);
        expect(back.node).toBe(victimPod.node);
        expect(back.ip).not.toBe(victimPod.ip);
        // While it was down the promoted replica's node held two masters; back on a node without one, the old
        // master takes over again (CLUSTER FAILOVER from start.sh), so no node loss can take two masters at once.
        const restored = await eventually(`${victimPod.name} master again on its new IP, ${replicaPod.name} its replica`, 90_000, async () => {
            const view = await clusterNodes(replicaPod.ip);
            const seen = view.find((n) => n.id === victim.id);
            const promoted = view.find((n) => n.id === replica.id);
            return seen?.address === `${back.ip}:${CLIENT_PORT}` && seen.flags.includes("master") && seen.slots.length > 0
                && promoted?.flags.includes("slave") && promoted.masterId === victim.id ? view : undefined;
        }, 500);
        expect(await shardPlacement(restored)).toEqual({ masterNodes: [...NODES], sharedWithMaster: [] });
        expect(await podLog(victimPod.name)).toMatch(/taking over from this replica's master \(CLUSTER FAILOVER\)[\s\S]*took over: master again on node-[abc]/);
        await allKeysReadable(() => clusterClient(survivors), "prod", 30_000);
    });

    it("loses a whole node holding a master (its kubelet, containerd and containers SIGKILLed, its network down): every slot served again from the other nodes, every acknowledged key readable; back, its pods rejoin and one master per node is restored", async () => {
        const pods = await nodePods();
        const view = await clusterNodes(pods[0].ip);
        const masterPod = pods.find((p) => view.some((n) => n.flags.includes("master") && n.slots.length > 0 && n.address === `${p.ip}:${CLIENT_PORT}`))!;
        const lostNode = masterPod.node as NodeName;
        const survivors = pods.filter((p) => p.node !== lostNode).map((p) => p.ip);
        const writer = startWriter("loss");
        let result: WriterResult | undefined;
        let servedAfter = 0;
        try {
            await sleep(3000);
            const stopped = Date.now();
            await cluster.stopNode(lostNode);
            await eventually(`every slot served by masters on the nodes left after ${lostNode} is lost`, 4 * objects.nodeTimeoutMs + 10_000, async () => {
                const states = await Promise.all(survivors.map(clusterInfo));
                const seen = await clusterNodes(survivors[0]);
                const serving = seen.filter((n) => n.flags.includes("master") && !n.flags.some((f) => f.startsWith("fail")) && n.slots.length > 0);
                return states.every((i) => i.cluster_state === "ok") && serving.length === 3
                    && serving.every((m) => survivors.includes(m.address.split(":")[0]));
            }, 250);
            servedAfter = Date.now() - stopped;
            await sleep(3000);
            result = await writer.stop();
            const lost = await missingOf(survivors, "loss", result.acknowledged);
            console.log(`prod shape: ${lostNode} (master ${masterPod.name} and one replica) lost; every slot served again after ${servedAfter} ms; writer: ${result.attempts} writes, ${result.acknowledged.length} acknowledged, ${lost.length} of them lost, longest write stall ${result.longestStallMs} ms`);
            expect(lost).toEqual([]);
            expect(result.acknowledged.length).toBeGreaterThan(50);
            await allKeysReadable(() => clusterClient(survivors), "prod", 30_000);
        } finally {
            if (!result) {
                await writer.stop();
            }
            await cluster.startNode(lostNode);
        }
        await cluster.waitReady(NAMESPACE, NODES_SELECTOR, 6, 300_000);
        const restored = await eventually("one master per node again after the node's return", 120_000, async () => {
            const back = await nodePods();
            const seen = await settledView(async () => back[0].ip, 3, 1, 5_000).catch(() => undefined);
            const masters = (seen ?? []).filter((n) => n.flags.includes("master"));
            const nodesOfMasters = new Set(masters.map((m) => back.find((p) => `${p.ip}:${CLIENT_PORT}` === m.address)?.node));
            return seen && nodesOfMasters.size === 3 ? seen : undefined;
        }, 1_000);
        expect(await shardPlacement(restored)).toEqual({ masterNodes: [...NODES], sharedWithMaster: [] });
    });

    it("heals when every pod comes back on a new address, with every key (replayed from the AOF)", async () => {
        const before = topology(await settledView(async () => (await ips())[0], 3, 1));
        const old = await nodePods();
        await sleep(1500); // appendfsync everysec

        await withCordoned([...NODES], () => crashAndKeepDown(pods));
        const restarted = Date.now();
        const back = await cluster.waitReady(NAMESPACE, NODES_SELECTOR, 6, 300_000);
        const readyAfter = Date.now() - restarted;
        expect(back.map((p) => p.node)).toEqual(old.map((p) => p.node));
        expect(back.filter((p) => old.some((o) => o.ip === p.ip))).toEqual([]);
        const addresses = back.map((p) => `${p.ip}:${CLIENT_PORT}`).sort().join();
        for (const pod of back) {
            let seen: ClusterNode[] = [];
            await eventually(`${pod.name} sees the whole cluster on the new addresses`, 120_000, async () => {
                seen = await clusterNodes(pod.ip);
                const whole = seen.length === 6 && seen.every((n) => n.linkState === "connected" && !n.flags.some((f) => f.startsWith("fail")));
                return whole && seen.map((n) => n.address).sort().join() === addresses;
            }, 500).catch(async (error: Error) => Promise.reject(new Error(`${error.message}\nexpected ${addresses}\n${pod.name}'s last view:\n${compactView(seen)}\n${await healDiagnosis(back)}`)));
        }
        const wholeAfter = Date.now() - restarted;
        expect(topology(await settledView(async () => back[0].ip, 3, 1))).toEqual(before);
        const logs = await Promise.all(pods.map(podLog));
        for (const log of logs) {
            expect(log).toMatch(/DB loaded from append only file/);
        }
        const repointed = logs.filter((log) => /start\.sh: replicating from \S+, but the cluster has master \S+ at \S+: CLUSTER REPLICATE/.test(log)).length;
        console.log(`prod shape: all 6 pods SIGKILLed and recreated on new IPs; all Ready (kubelet) ${readyAfter} ms and whole ${wholeAfter} ms after their nodes were uncordoned; ${repointed} replica link(s) re-pointed to the master's new address`);
        await allKeysReadable(() => clusterClient(back.map((p) => p.ip)), "prod", 30_000);
    });

    it("rolls every pod for a config change without losing an acknowledged write: masters hand over first (preStop), a pod is Ready only back in the cluster and in sync", async () => {
        const rolled = redisObjects(await renderForCluster("prod", testStack("prod", { maxmemoryPolicy: "allkeys-lfu" })));
        const checksum = (sts: Record<string, any>) => sts.spec.template.metadata.annotations["bss/config-checksum"];
        expect(checksum(rolled.statefulSet)).not.toBe(checksum(objects.statefulSet));
        const before = await nodePods();
        const writer = startWriter("roll");
        let result: WriterResult;
        const started = Date.now();
        try {
            await sleep(2000);
            await cluster.apply(rolled.nodes);
            await cluster.kubectl(["-n", NAMESPACE, "rollout", "status", `statefulset/${STATEFUL_SET}`, "--timeout=600s"], { timeoutMs: 620_000 });
            await cluster.waitReady(NAMESPACE, NODES_SELECTOR, 6, 120_000);
            await sleep(2000);
        } finally {
            result = await writer.stop();
        }
        const rollMs = Date.now() - started;
        const after = await nodePods();
        expect(after.filter((p) => before.some((b) => b.uid === p.uid))).toEqual([]);
        const lost = await missingOf(after.map((p) => p.ip), "roll", result.acknowledged);
        console.log(`prod shape: full roll of 6 pods in ${rollMs} ms under a writer: ${result.attempts} writes, ${result.acknowledged.length} acknowledged (WAIT 1), ${lost.length} of them lost, longest write stall ${result.longestStallMs} ms`);
        expect(lost).toEqual([]);
        expect(result.acknowledged.length).toBeGreaterThan(100);
        // The rolled pods' own hook runs (earlier tests SIGKILL containers, whose hooks then have nothing to run in).
        const hookFailures = (await cluster.json(["-n", NAMESPACE, "get", "events", "--field-selector", "reason=FailedPreStopHook"])).items
            .filter((e: any) => before.some((b) => b.uid === e.involvedObject.uid)).map((e: any) => `${e.involvedObject.name}: ${e.message}`);
        expect(hookFailures).toEqual([]);
        for (const pod of after) {
            expect(await runProbe(rolled.statefulSet, pod.name, "readinessProbe")).toEqual({ code: 0, output: "" });
            expect((await clusterInfo(pod.ip)).cluster_state).toBe("ok");
        }
        const nodes = await clusterNodes(after[0].ip);
        expect(nodes.filter((n) => n.flags.includes("master") && n.slots.length > 0)).toHaveLength(3);
        expect(await shardPlacement(nodes)).toEqual({ masterNodes: [...NODES], sharedWithMaster: [] });
        objects = rolled;
        fields = { maxmemoryPolicy: "allkeys-lfu" };
    });

    it("leaves the cluster untouched when the bootstrap runs again", async () => {
        const before = topology(await settledView(async () => (await ips())[0], 3, 1));
        const log = await runBootstrap(objects.job);
        expect(log).toContain("every node already belongs to the cluster: no node to join");
        expect(topology(await settledView(async () => (await ips())[0], 3, 1))).toEqual(before);
        const seeds = await ips();
        await allKeysReadable(() => clusterClient(seeds), "prod", 10_000);
    });

    it("scales out from 3 to 4 masters under a writer: the running pods keep running, the new shape's bootstrap Job adds the two new pods (a master and its replica on another node) and rebalances slots onto the new master; no acknowledged write lost", async () => {
        const grown = redisObjects(await renderForCluster("prod", testStack("prod", { ...fields, masters: 4 })));
        expect(grown.statefulSet.spec.replicas).toBe(8);
        expect(grown.statefulSet.spec.template).toEqual(objects.statefulSet.spec.template);
        const before = await nodePods();
        const writer = startWriter("grow");
        let result: WriterResult;
        let jobMs = 0;
        let log = "";
        const started = Date.now();
        try {
            await sleep(2000);
            await cluster.apply(grown.nodes);
            log = await runBootstrap(grown.job);
            jobMs = Date.now() - started;
            await cluster.waitReady(NAMESPACE, NODES_SELECTOR, 8, 180_000);
            await sleep(2000);
        } finally {
            result = await writer.stop();
        }
        const after = await nodePods();
        expect(after.filter((p) => before.some((b) => b.uid === p.uid)).map((p) => p.name)).toEqual(before.map((p) => p.name));
        // The placement lines are in the attempt that joined the new pods. When the Job's container restarted during
        // the rebalance (seen in 2 of about 5 runs on the loaded machine: a slot left half-moved, the first attempt's
        // end in no log the kubelet still held), the next attempt resumes: every node joined, the slot fixed. Either
        // way the cluster's state below is checked in full (roles, slots, replicas off their masters' nodes).
        const placed = /new master: redis-cluster-[67]\S* on node-[abc]/.test(log)
            && /new replica: redis-cluster-[67]\S* on node-[abc] follows redis-cluster-[67]\S* on node-[abc]/.test(log);
        const resumed = log.includes("every node already belongs to the cluster: no node to join");
        expect({ placed, resumed }).not.toEqual({ placed: false, resumed: false });
        expect(log).toContain("rebalancing slots over the 4 masters");
        const lost = await missingOf(after.map((p) => p.ip), "grow", result.acknowledged);
        console.log(`prod shape: 3 -> 4 masters in ${Date.now() - started} ms (bootstrap Job complete after ${jobMs} ms) under a writer: ${result.attempts} writes, ${result.acknowledged.length} acknowledged (WAIT 1), ${lost.length} of them lost, longest write stall ${result.longestStallMs} ms`);
        expect(lost).toEqual([]);
        expect(result.acknowledged.length).toBeGreaterThan(50);
        grownAcknowledged = result.acknowledged;

        for (const pod of after) {
            const info = await clusterInfo(pod.ip);
            expect([info.cluster_state, info.cluster_slots_assigned, info.cluster_slots_ok, info.cluster_known_nodes, info.cluster_size]).toEqual(["ok", "16384", "16384", "8", "4"]);
        }
        const nodes = await clusterNodes(after[0].ip);
        const slotCount = (n: ClusterNode) => n.slots.filter((r) => !r.startsWith("[")).reduce((sum, r) => {
            const [from, to] = r.split("-").map(Number);
            return sum + (to === undefined ? 1 : to - from + 1);
        }, 0);
        const masters = nodes.filter((n) => n.flags.includes("master"));
        expect(masters).toHaveLength(4);
        // --cluster rebalance's own threshold: every master within 2% of 16384 / 4.
        for (const master of masters) {
            expect(Math.abs(slotCount(master) - 4096)).toBeLessThanOrEqual(82);
        }
        expect(nodes.filter((n) => n.flags.includes("slave")).map((r) => r.masterId).sort()).toEqual(masters.map((m) => m.id).sort());
        expect((await shardPlacement(nodes)).sharedWithMaster).toEqual([]);
        await allKeysReadable(() => clusterClient(after.map((p) => p.ip)), "prod", 30_000);
    });

    it("refuses 4 -> 3 masters while redis-cluster-6 and -7 are in the cluster, touching nothing; under a writer, npm run redis:drain empties and removes them and marks the StatefulSet, then the lower shape goes through: no acknowledged write lost, all slots covered, no master with its replica on one node", async () => {
        const statefulSetNow = async () => {
            const sts = await cluster.json(["-n", NAMESPACE, "get", "statefulset", STATEFUL_SET]);
            return { generation: sts.metadata.generation as number, replicas: sts.spec.replicas as number, drained: drainedIds(sts.metadata.annotations, sts.metadata.generation, DRAIN_ANNOTATION, "ordinals") };
        };
        const lastOutputs = { redisMasters: 4, redisReplicasPerMaster: 1 };
        const wanted = { masters: 3, replicasPerMaster: 1 };
        const before = await statefulSetNow();
        const topologyBefore = topology(await settledView(async () => (await ips())[0], 4, 1));
        const refused = nodeRemovalProblems(lastOutputs, wanted, "prod", before.drained);
        expect(refused).toHaveLength(1);
        expect(refused[0]).toMatch(/^bss:redis\.masters cannot go from 4 to 3 while the pods the StatefulSet would delete \(redis-cluster-6, redis-cluster-7\) .*run `npm run redis:drain -- --stack prod --masters 3 --replicas-per-master 1` first/);
        expect(await statefulSetNow()).toEqual(before);
        expect(topology(await clusterNodes((await ips())[0]))).toEqual(topologyBefore);

        const shrunk = redisObjects(await renderForCluster("prod", testStack("prod", fields)));
        const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-redis-drain-"));
        const configFile = path.join(configDir, "Pulumi.prod.yaml");
        const stack = testStack("prod", fields);
        fs.writeFileSync(configFile, yaml.dump({ config: Object.fromEntries(Object.entries(stack.values).filter(([k]) => k.startsWith("bss:") && !stack.secretKeys.includes(k))
            .map(([k, v]) => [k, /^[[{]/.test(v) ? JSON.parse(v) : v])) }));
        const writer = startWriter("shrink");
        let result: WriterResult;
        let drainMs = 0;
        const lines: string[] = [];
        const started = Date.now();
        try {
            await sleep(2000);
            await redisDrain({ stack: "prod", masters: 3, configFile, kubectl: KUBECTL, kubeconfig: cluster.kubeconfig, timeoutSeconds: 300 }, (line) => lines.push(line));
            drainMs = Date.now() - started;
            const marked = await statefulSetNow();
            expect(marked.drained).toEqual([6, 7]);
            expect(nodeRemovalProblems(lastOutputs, wanted, "prod", marked.drained)).toEqual([]);
            await cluster.apply(shrunk.nodes);
            await eventually("redis-cluster-6 and -7 gone", 180_000, async () => !(await cluster.pod(NAMESPACE, `${STATEFUL_SET}-6`)) && !(await cluster.pod(NAMESPACE, `${STATEFUL_SET}-7`)), 1_000);
            const log = await runBootstrap(shrunk.job);
            expect(log).toContain("every node already belongs to the cluster: no node to join");
            await cluster.waitReady(NAMESPACE, NODES_SELECTOR, 6, 120_000);
            await sleep(2000);
        } finally {
            result = await writer.stop();
            fs.rmSync(configDir, { recursive: true, force: true });
        }
        const after = await nodePods();
        expect(after.map((p) => p.name)).toEqual(pods);
        const lost = await missingOf(after.map((p) => p.ip), "shrink", result.acknowledged);
        console.log(`prod shape: 4 -> 3 masters in ${Date.now() - started} ms (drain ${drainMs} ms: ${lines.join(" | ")}) under a writer: ${result.attempts} writes, ${result.acknowledged.length} acknowledged (WAIT 1), ${lost.length} of them lost, longest write stall ${result.longestStallMs} ms`);
        expect(lost).toEqual([]);
        expect(result.acknowledged.length).toBeGreaterThan(50);
        expect(await missingOf(after.map((p) => p.ip), "grow", grownAcknowledged)).toEqual([]);
        for (const pod of after) {
            const info = await clusterInfo(pod.ip);
            expect([info.cluster_state, info.cluster_slots_assigned, info.cluster_slots_ok, info.cluster_known_nodes, info.cluster_size]).toEqual(["ok", "16384", "16384", "6", "3"]);
        }
        const nodes = await clusterNodes(after[0].ip);
        expect((await shardPlacement(nodes)).sharedWithMaster).toEqual([]);
        expect(nodes.filter((n) => n.flags.includes("slave")).map((r) => r.masterId).sort()).toEqual(nodes.filter((n) => n.flags.includes("master")).map((m) => m.id).sort());
        await allKeysReadable(() => clusterClient(after.map((p) => p.ip)), "prod", 30_000);
    });

    it("backs up every master from the CronJob's template onto the PVC, and the README's restore Job brings every key back into the emptied cluster", async () => {
        const backupObjects = clusterManifests(await renderForCluster("prod", testStack("prod", fields)))
            .filter((m) => String(m.metadata?.name ?? "").startsWith("redis-backup") && m.kind !== "NetworkPolicy");
        expect(backupObjects.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(["ConfigMap/redis-backup-scripts", "CronJob/redis-backup", "PersistentVolumeClaim/redis-backups"]);
        await cluster.apply(backupObjects);
        const seed = (await ips())[0];
        const entries = await everyEntry(seed);
        expect(entries.size).toBeGreaterThan(KEY_COUNT);

        // The README's "a backup now": a Job from the CronJob's template.
        const backupStarted = Date.now();
        await cluster.kubectl(["-n", NAMESPACE, "create", "job", "redis-backup-now", "--from=cronjob/redis-backup"]);
        const { complete: backedUp } = await cluster.jobFinished(NAMESPACE, "redis-backup-now", 180_000);
        const backupLog = await cluster.kubectl(["-n", NAMESPACE, "logs", "job/redis-backup-now"]);
        const backupMs = Date.now() - backupStarted;
        expect({ backedUp, backupLog }).toEqual({ backedUp: true, backupLog: expect.stringMatching(/backup \d{8}T\d{6}Z complete: 3 masters/) });
        const stamp = /backup (\d{8}T\d{6}Z) complete/.exec(backupLog)![1];

        // The files as the PVC holds them (the test cluster's volumes are host directories).
        const claim = await cluster.json(["-n", NAMESPACE, "get", "pvc", "redis-backups"]);
        const volume = await cluster.json(["get", "pv", claim.spec.volumeName]);
        const run = path.join(volume.spec.hostPath.path, stamp);
        expect(fs.readdirSync(volume.spec.hostPath.path)).toEqual([stamp]);
        const manifest = fs.readFileSync(path.join(run, "manifest"), "utf8").trim().split("\n").map((line) => line.split(" "));
        const masters = (await clusterNodes(seed)).filter((n) => n.flags.includes("master") && n.slots.length > 0);
        expect(manifest.map(([id]) => id).sort()).toEqual(masters.map((m) => m.id).sort());
        expect(manifest.map(([id, , , ...ranges]) => `${id} ${ranges.join(" ")}`).sort()).toEqual(masters.map((m) => `${m.id} ${m.slots.join(" ")}`).sort());
        expect(manifest.reduce((sum, [, , keys]) => sum + Number(keys), 0)).toBe(entries.size);
        for (const [id] of manifest) {
            expect(fs.readFileSync(path.join(run, `${id}.rdb`)).subarray(0, 5).toString()).toBe("REDIS");
        }

        // A loss: every master emptied (their replicas follow), then the restore Job of the README's step 3.
        await Promise.all(masters.map((m) => onNode(m.address.split(":")[0], (r) => r.flushall())));
        expect((await everyEntry(seed)).size).toBe(0);
        const cronJob = await cluster.json(["-n", NAMESPACE, "get", "cronjob", "redis-backup"]);
        const restoreSpec = cronJob.spec.jobTemplate.spec;
        restoreSpec.template.spec.containers[0].command = ["/opt/redis-backup/restore.sh", `/backups/${stamp}`, "redis-cluster:7000"];
        const restoreStarted = Date.now();
        const restored = await runJob({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "redis-restore", namespace: NAMESPACE }, spec: restoreSpec }, 300_000);
        const restoreMs = Date.now() - restoreStarted;
        expect(restored).toEqual({ complete: true, log: expect.stringContaining(`restored ${entries.size} keys from /backups/${stamp} into redis-cluster:7000`) });
        const back = await everyEntry(seed);
        expect([...back.entries()].sort()).toEqual([...entries.entries()].sort());
        console.log(`prod shape: backup of 3 masters (${entries.size} keys) by a Job from the CronJob in ${backupMs} ms; every master emptied, the restore Job brought all ${back.size} keys back in ${restoreMs} ms`);
        await cluster.kubectl(["-n", NAMESPACE, "delete", "job", "redis-backup-now", "redis-restore", "--wait=true"]);
    });
});
