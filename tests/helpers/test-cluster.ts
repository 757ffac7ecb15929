/**
 * The real Kubernetes cluster of scripts/test-cluster.sh, from a jest test file: one cluster per file.
 *
 *     const cluster = await TestCluster.up();              // beforeAll
 *     await cluster.apply(clusterManifests(rendered));     // kubectl apply --server-side --validate=strict
 *     await cluster.waitReady("bss", "app.kubernetes.io/name=kafka", 3);
 *     await cluster.runClient(["java", ...]);              // a client inside the cluster network
 *     await cluster.down();                                // afterAll
 */
import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./render";

const SCRIPT = path.join(ROOT, "scripts", "test-cluster.sh");
const BIN = path.join(process.env.TEST_CLUSTER_CACHE ?? path.join(ROOT, ".cache", "test-cluster"), "bin");
/** The run directory of scripts/test-cluster.sh: certificates, logs, and each node's containerd and kubelet state. */
export const RUN = process.env.TEST_CLUSTER_RUN ?? "/tmp/bss-test-cluster";
export const CLIENT_NETNS = "bsstc-client";
export const NODES = ["node-a", "node-b", "node-c"] as const;
export type NodeName = typeof NODES[number];

/** The local images of scripts/test-cluster/images.env, by variable name (`KAFKA_IMAGE`, ...). */
export const LOCAL_IMAGES: Record<string, string> = Object.fromEntries(
    fs.readFileSync(path.join(ROOT, "scripts", "test-cluster", "images.env"), "utf8").split("\n")
        .filter((line) => /^[A-Z_]+=/.test(line)).map((line) => line.split("=", 2) as [string, string]),
);

export interface CommandResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    input?: string;
    timeoutMs?: number;
    env?: Record<string, string>;
}

/** Runs a command to its end; never throws for a non-zero exit (the caller decides). */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
        child.on("error", reject);
        // A command that exits without reading its input (ip, bash -c) must not crash the test file with EPIPE.
        child.stdin.on("error", () => undefined);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal === "SIGKILL" ? `${stderr}\n(killed after ${options.timeoutMs ?? 120_000} ms)` : stderr });
        });
        child.stdin.end(options.input ?? "");
    });
}

function checked(result: CommandResult, what: string): string {
    if (result.code !== 0) {
        throw new Error(`${what} exited with ${result.code}\nstdout:\n${result.stdout.slice(-4000)}\nstderr:\n${result.stderr.slice(-4000)}`);
    }
    return result.stdout;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `attempt` until it returns a value other than undefined/false, or throws the last failure at the bound. */
export async function eventually<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined | false>, intervalMs = 1_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const value = await attempt();
            if (value !== undefined && value !== false) {
                return value as T;
            }
            last = undefined;
        } catch (error) {
            last = error;
        }
        if (Date.now() > deadline) {
            throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? `; last error: ${last instanceof Error ? last.message : String(last)}` : ""}`);
        }
        await sleep(intervalMs);
    }
}

export interface PodInfo {
    name: string;
    node: string;
    ip: string;
    ready: boolean;
    phase: string;
    restarts: number;
    uid: string;
    containerIds: Record<string, string>;
    deleting: boolean;
}

export class TestCluster {
    readonly kubeconfig = path.join(RUN, "admin.kubeconfig");

    private constructor() {}

    /** Brings the cluster up (building what is missing) and waits until all three nodes are Ready. */
    static async up(): Promise<TestCluster> {
        checked(await run("bash", [SCRIPT, "up"], { timeoutMs: 3_000_000 }), "test-cluster.sh up");
        return new TestCluster();
    }

    /** Stops everything `up` started and undoes its changes on the host. */
    async down(): Promise<void> {
        checked(await run("bash", [SCRIPT, "down"], { timeoutMs: 300_000 }), "test-cluster.sh down");
    }

    async kubectl(args: string[], options: RunOptions = {}): Promise<string> {
        return checked(await this.kubectlResult(args, options), `kubectl ${args.join(" ")}`);
    }

    kubectlResult(args: string[], options: RunOptions = {}): Promise<CommandResult> {
        return run(path.join(BIN, "kubectl"), ["--kubeconfig", this.kubeconfig, ...args], options);
    }

    /**
     * `kubectl apply --server-side --validate=strict` of the objects, namespaces first. Returns what the API server
     * answered on stderr (warnings); throws on any rejection.
     */
    async apply(objects: Record<string, any>[], fieldManager = "bss-tests"): Promise<{ stdout: string; warnings: string }> {
        const namespaces = objects.filter((o) => o.kind === "Namespace");
        const rest = objects.filter((o) => o.kind !== "Namespace");
        let stdout = "";
        let warnings = "";
        for (const batch of [namespaces, rest].filter((b) => b.length > 0)) {
            const result = await this.kubectlResult(["apply", "--server-side", "--validate=strict", `--field-manager=${fieldManager}`, "-f", "-"],
                { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: batch }) });
            checked(result, "kubectl apply");
            stdout += result.stdout;
            warnings += result.stderr;
        }
        return { stdout, warnings };
    }

    async json(args: string[]): Promise<any> {
        return JSON.parse(await this.kubectl([...args, "-o", "json"]));
    }

    async pods(namespace: string, selector: string): Promise<PodInfo[]> {
        const list = await this.json(["-n", namespace, "get", "pods", "-l", selector]);
        return list.items.map((p: any) => ({
            name: p.metadata.name,
            node: p.spec.nodeName ?? "",
            ip: p.status.podIP ?? "",
            phase: p.status.phase,
            uid: p.metadata.uid,
            deleting: Boolean(p.metadata.deletionTimestamp),
            ready: (p.status.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True"),
            restarts: (p.status.containerStatuses ?? []).reduce((sum: number, c: any) => sum + c.restartCount, 0),
            containerIds: Object.fromEntries((p.status.containerStatuses ?? []).filter((c: any) => c.containerID)
                .map((c: any) => [c.name, c.containerID.replace(/^containerd:\/\//, "")])),
        })).sort((a: PodInfo, b: PodInfo) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    }

    async pod(namespace: string, name: string): Promise<PodInfo | undefined> {
        return (await this.pods(namespace, `statefulset.kubernetes.io/pod-name=${name}`)).find((p) => p.name === name)
            ?? (await this.pods(namespace, "")).find((p) => p.name === name);
    }

    /** Waits until `count` pods of the selector are Ready (as the kubelet's readiness probes say). */
    async waitReady(namespace: string, selector: string, count: number, timeoutMs = 300_000): Promise<PodInfo[]> {
        try {
            return await eventually(`${count} Ready pod(s) for ${selector} in ${namespace}`, timeoutMs, async () => {
                const pods = (await this.pods(namespace, selector)).filter((p) => !p.deleting);
                return pods.length === count && pods.every((p) => p.ready) ? pods : undefined;
            }, 2_000);
        } catch (error) {
            throw new Error(`${(error as Error).message}\n${await this.diagnose(namespace, selector)}`);
        }
    }

    /** The state, recent events and last log lines of every pod of the selector that is not Ready, for failure messages. */
    async diagnose(namespace: string, selector: string): Promise<string> {
        const pods = (await this.pods(namespace, selector).catch(() => [])).filter((p) => !p.ready);
        const parts = await Promise.all(pods.map(async (p) => {
            const events = await this.kubectlResult(["-n", namespace, "get", "events", "--field-selector", `involvedObject.name=${p.name}`,
                "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"]);
            const logs = await this.kubectlResult(["-n", namespace, "logs", p.name, "--all-containers", "--tail=40"]);
            return `--- ${p.name} (${p.phase}, node ${p.node || "none"}, restarts ${p.restarts})\n${events.stdout.trim().split("\n").slice(-8).join("\n")}\n${logs.stdout}${logs.stderr}`;
        }));
        return parts.join("\n");
    }

    async waitPodReady(namespace: string, name: string, timeoutMs = 300_000): Promise<PodInfo> {
        return eventually(`pod ${namespace}/${name} Ready`, timeoutMs, async () => {
            const pod = await this.pod(namespace, name);
            return pod && pod.ready && !pod.deleting ? pod : undefined;
        }, 1_000);
    }

    /** `kubectl exec` into a container; resolves with the result whatever the exit code. */
    exec(namespace: string, pod: string, container: string, command: string[], options: RunOptions = {}): Promise<CommandResult> {
        return this.kubectlResult(["-n", namespace, "exec", "-i", pod, "-c", container, "--", ...command], { timeoutMs: 120_000, ...options });
    }

    /**
     * Runs a command on this machine inside the cluster's client network namespace: it reaches pods and Services
     * and resolves cluster names through the cluster DNS, like a client pod.
     */
    runClient(command: string[], options: RunOptions = {}): Promise<CommandResult> {
        return run("ip", ["netns", "exec", CLIENT_NETNS, ...command], { timeoutMs: 120_000, ...options });
    }

    /**
     * A crash: SIGKILL to every process of the container, through its node's containerd. The kubelet sees it exit and
     * starts it again (restartPolicy Always), in the same pod.
     */
    async crashContainer(namespace: string, pod: string, container: string): Promise<void> {
        const info = await this.pod(namespace, pod);
        const id = info?.containerIds[container];
        if (!info || !id) {
            throw new Error(`no running container ${container} in pod ${namespace}/${pod}`);
        }
        checked(await run(path.join(BIN, "ctr"), ["--address", path.join(RUN, "nodes", info.node, "containerd.sock"), "-n", "k8s.io",
            "tasks", "kill", "--all", "--signal", "SIGKILL", id]), `ctr tasks kill ${id}`);
    }

    /** Deletes a pod the way `kubectl delete pod` does (SIGTERM, then the grace period); waits for it to be gone. */
    /** Waits until Job `name` has finished (condition Complete or Failed); returns whether it completed and its status. */
    async jobFinished(namespace: string, name: string, timeoutMs: number): Promise<{ complete: boolean; status: Record<string, any> }> {
        const condition = (status: Record<string, any>, type: string) => (status.conditions ?? []).some((c: any) => c.type === type && c.status === "True");
        const status = await eventually(`Job ${name} finished`, timeoutMs, async () => {
            const current = (await this.json(["-n", namespace, "get", "job", name])).status ?? {};
            return condition(current, "Complete") || condition(current, "Failed") ? current : undefined;
        }, 1_000);
        return { complete: condition(status, "Complete"), status };
    }

    async deletePod(namespace: string, pod: string, timeoutMs = 180_000): Promise<void> {
        await this.kubectl(["-n", namespace, "delete", "pod", pod, "--wait=true", `--timeout=${Math.round(timeoutMs / 1000)}s`]);
    }

    /** Node loss: the node's kubelet, containerd and containers are SIGKILLed and its network goes down. */
    async stopNode(node: NodeName): Promise<void> {
        checked(await run("bash", [SCRIPT, "stop-node", node], { timeoutMs: 120_000 }), `stop-node ${node}`);
    }

    async startNode(node: NodeName): Promise<void> {
        checked(await run("bash", [SCRIPT, "start-node", node], { timeoutMs: 300_000 }), `start-node ${node}`);
    }

    async nodeReady(node: NodeName): Promise<boolean> {
        const status = await this.kubectl(["get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
        return status.trim() === "True";
    }

    /** kube-router's network-policy controller (firewall only), enforcing NetworkPolicy from now on. */
    async enforceNetworkPolicies(): Promise<void> {
        checked(await run("bash", [SCRIPT, "network-policy"], { timeoutMs: 60_000 }), "test-cluster.sh network-policy");
    }
}

/** A shell command's output, for tests that need one host tool (e.g. the cluster's `iptables` rules). */
export function hostCommand(command: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => execFile(command, args, (error, stdout, stderr) => (error ? reject(new Error(`${command}: ${stderr}`)) : resolve(stdout))));
}
