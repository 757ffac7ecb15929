/**
 * Self-test of the pod runner on a tiny hand-built stack whose "image" is this host's own tools: two pods of a
 * StatefulSet serving HTTP on the same port, a script shipped in a ConfigMap, a Secret env var, a PVC, a
 * non-root uid with fsGroup, exec and tcpSocket probes. No Kafka or Redis involved.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { EXECUTABLE_MODE, PRIVATE_MODE } from "../../components/shared/files";
import { containerSecurityContext, podSecurityContext } from "../../components/shared/security";
import { PodSandbox } from "./pod-runner";

jest.setTimeout(60_000);

const NS = "sbx";
const IMAGE = "sandbox.local/host-tools:1";
const GREETING = "hello-from-secret";
const IMAGE_MOUNT = "/opt/pod-runner-self-test";

const SERVE = `#!/bin/bash
set -euo pipefail
echo "$HOSTNAME $(id -u) $(id -g) $(id -G)" >> /data/boots
exec /usr/bin/python3 -m http.server 8080 --bind 0.0.0.0 --directory /data
`;

const FLAKY = `#!/bin/bash
set -euo pipefail
rm -f /scratch/kill-me
if [ ! -e /scratch/booted ]; then
  touch /scratch/booted
  echo "first boot: failing"
  exit 3
fi
echo "booted again"
exec sleep 600
`;

function statefulSet(name: string, scriptsConfigMap: string): Record<string, any> {
    return {
        apiVersion: "apps/v1", kind: "StatefulSet",
        metadata: { name, namespace: NS },
        spec: {
            serviceName: `${name}-headless`, replicas: 2, podManagementPolicy: "Parallel",
            selector: { matchLabels: { app: name } },
            template: {
                metadata: { labels: { app: name } },
                spec: {
                    securityContext: podSecurityContext(1000),
                    terminationGracePeriodSeconds: 5,
                    containers: [{
                        name: "web", image: IMAGE,
                        command: ["/scripts/serve.sh"],
                        env: [
                            { name: "GREETING", valueFrom: { secretKeyRef: { name: "web-secret", key: "greeting" } } },
                            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                            { name: "SELF_URL", value: "http://$(POD_IP):8080/" },
                        ],
                        ports: [{ name: "http", containerPort: 8080 }],
                        securityContext: containerSecurityContext(),
                        startupProbe: { httpGet: { path: "/boots", port: "http" }, periodSeconds: 1, failureThreshold: 10 },
                        readinessProbe: { exec: { command: ["/bin/sh", "-c", "test -s /data/boots"] }, periodSeconds: 1 },
                        livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 5 },
                        volumeMounts: [
                            { name: "scripts", mountPath: "/scripts", readOnly: true },
                            { name: "data", mountPath: "/data" },
                            { name: "tmp", mountPath: "/tmp" },
                            { name: "scripts", mountPath: "/etc/web/serve-copy.sh", subPath: "serve.sh" },
                            { name: "secret", mountPath: "/etc/web-secret" },
                        ],
                    }],
                    volumes: [
                        { name: "scripts", configMap: { name: scriptsConfigMap, defaultMode: scriptsConfigMap === "web-scripts" ? EXECUTABLE_MODE : 0o644 } },
                        { name: "tmp", emptyDir: {} },
                        { name: "secret", secret: { secretName: "web-secret", defaultMode: PRIVATE_MODE } },
                    ],
                },
            },
            volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
        },
    };
}

const manifests: Record<string, any>[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web-scripts", namespace: NS }, data: { "serve.sh": SERVE } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "noexec-scripts", namespace: NS }, data: { "serve.sh": SERVE } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "web-secret", namespace: NS }, stringData: { greeting: "<redacted>" } },
    {
        apiVersion: "v1", kind: "Service", metadata: { name: "web-headless", namespace: NS },
        spec: { clusterIP: "None", publishNotReadyAddresses: true, selector: { app: "web" }, ports: [{ name: "http", port: 8080 }] },
    },
    {
        apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: NS },
        spec: { type: "ClusterIP", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    },
    statefulSet("web", "web-scripts"),
    statefulSet("noexec", "noexec-scripts"),
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "flaky-scripts", namespace: NS }, data: { "flaky.sh": FLAKY } },
    {
        apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "flaky", namespace: NS },
        spec: {
            serviceName: "flaky", replicas: 1, selector: { matchLabels: { app: "flaky" } },
            template: {
                metadata: { labels: { app: "flaky" } },
                spec: {
                    securityContext: podSecurityContext(1000),
                    terminationGracePeriodSeconds: 2,
                    containers: [{
                        name: "main", image: IMAGE, command: ["/scripts/flaky.sh"],
                        securityContext: containerSecurityContext(),
                        readinessProbe: { exec: { command: ["test", "-e", "/scratch/booted"] }, periodSeconds: 1 },
                        // The delay lets a restarted script remove the marker before its first liveness check.
                        livenessProbe: { exec: { command: ["test", "!", "-e", "/scratch/kill-me"] }, initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 1 },
                        volumeMounts: [{ name: "scripts", mountPath: "/scripts" }, { name: "scratch", mountPath: "/scratch" }],
                    }],
                    volumes: [{ name: "scripts", configMap: { name: "flaky-scripts", defaultMode: EXECUTABLE_MODE } }, { name: "scratch", emptyDir: {} }],
                },
            },
        },
    },
    {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "rooty", namespace: NS },
        spec: {
            selector: { matchLabels: { app: "rooty" } },
            template: {
                metadata: { labels: { app: "rooty" } },
                spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: "main", image: IMAGE, command: ["/bin/sleep", "60"] }] },
            },
        },
    },
];

function httpGet(host: string, port: number, urlPath = "/"): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const request = http.get({ host, port, path: urlPath, timeout: 5000 }, (response) => {
            let body = "";
            response.on("data", (d) => (body += d));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on("timeout", () => request.destroy(new Error("timeout")));
        request.on("error", reject);
    });
}

function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

function sandboxLinksAndNamespaces(bridge: string): string[] {
    const links = execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).split("\n")
        .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => !!n && (n === bridge || n.startsWith(`${bridge}v`)));
    const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`${bridge}-`));
    return [...links, ...namespaces];
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/** Starts tests/harness/sandbox-owner.ts and resolves with its process and what it printed once its pod ran. */
function startOwner(workDir: string, mode: "exit" | "wait"): Promise<{ child: import("child_process").ChildProcess; hostIp: string; podPid: number }> {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "sandbox-owner.ts"), workDir, mode], {
        cwd: path.resolve(__dirname, "..", ".."), stdio: ["ignore", "pipe", "pipe"],
    });
    return new Promise((resolve, reject) => {
        let out = "";
        let err = "";
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`sandbox owner printed nothing in 30 s: ${err}`));
        }, 30_000);
        child.stderr!.on("data", (d) => (err += d));
        child.stdout!.on("data", (d) => {
            out += d;
            if (out.includes("\n")) {
                clearTimeout(timer);
                resolve({ child, ...JSON.parse(out.split("\n")[0]) });
            }
        });
        child.once("exit", (code) => {
            if (!out.includes("\n")) {
                clearTimeout(timer);
                reject(new Error(`sandbox owner exited with ${code}: ${err}`));
            }
        });
    });
}

function bridgeOf(hostIp: string): string {
    return `bsssb${hostIp.split(".")[2]}`;
}

describe("pod runner", () => {
    let sandbox: PodSandbox;
    let workDir: string;
    let bridge: string;

    beforeAll(async () => {
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "pod-runner-"));
        fs.mkdirSync(path.join(workDir, "image"));
        fs.writeFileSync(path.join(workDir, "image", "version"), "image-file-1\n");
        sandbox = await PodSandbox.create({
            manifests, workDir,
            images: { [IMAGE]: { env: { PATH: "/usr/bin:/bin", IMAGE_ONLY: "from-image" }, mounts: { [IMAGE_MOUNT]: path.join(workDir, "image") } } },
            secretValues: { "web-secret": { greeting: GREETING } },
        });
        bridge = `bsssb${sandbox.hostIp.split(".")[2]}`;
        await Promise.all([sandbox.startPod("web", 0), sandbox.startPod("web", 1)]);
        await Promise.all([sandbox.waitReady("web-0", "web", 20_000), sandbox.waitReady("web-1", "web", 20_000)]);
    });

    afterAll(async () => {
        await sandbox?.destroy();
        fs.rmSync(workDir, { recursive: true, force: true });
        // The mount point the runner created on the host for the image folder: empty, and ours.
        if (fs.existsSync(IMAGE_MOUNT) && fs.readdirSync(IMAGE_MOUNT).length === 0) {
            fs.rmdirSync(IMAGE_MOUNT);
        }
    });

    it("gives every pod its own address with the same port open", async () => {
        const [ip0, ip1] = [sandbox.ip("web-0"), sandbox.ip("web-1")];
        expect(ip0).not.toEqual(ip1);
        const [r0, r1] = await Promise.all([httpGet(ip0, 8080, "/boots"), httpGet(ip1, 8080, "/boots")]);
        expect(r0.body).toMatch(/^web-0 /m);
        expect(r1.body).toMatch(/^web-1 /m);
    });

    it("resolves a peer by its headless DNS name from inside a pod", async () => {
        const fetch = "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())";
        const result = await sandbox.exec("web-0", "web", ["python3", "-c", fetch, "http://web-1.web-headless.sbx.svc.cluster.local:8080/boots"]);
        expect(result).toMatchObject({ code: 0 });
        expect(result.stdout).toMatch(/^web-1 1000 /m);
        const short = await sandbox.exec("web-0", "web", ["getent", "hosts", "web-1.web-headless"]);
        expect(short.stdout.split(/\s+/)[0]).toEqual(sandbox.ip("web-1"));
    });

    it("runs as the pod's uid, gid and fsGroup, with the container env and the Secret value", async () => {
        expect((await sandbox.exec("web-0", "web", ["id", "-u"])).stdout.trim()).toEqual("1000");
        expect((await sandbox.exec("web-0", "web", ["id", "-G"])).stdout.trim()).toEqual("1000");
        const env = (await sandbox.exec("web-0", "web", ["env"])).stdout.split("\n").sort();
        expect(env).toEqual(expect.arrayContaining([
            `GREETING=${GREETING}`, `POD_IP=${sandbox.ip("web-0")}`, `SELF_URL=http://${sandbox.ip("web-0")}:8080/`,
            "HOSTNAME=web-0", "IMAGE_ONLY=from-image",
        ]));
        expect(env.filter((line) => /^(HOME|JEST_WORKER_ID|NODE_ENV)=/.test(line))).toEqual([]);
        const boots = fs.statSync(path.join(workDir, "pvc", "data-web-0", "boots"));
        expect([boots.uid, boots.gid]).toEqual([1000, 1000]);
        expect((await sandbox.exec("web-0", "web", ["cat", `${IMAGE_MOUNT}/version`])).stdout).toEqual("image-file-1\n");
    });

    it("mounts the root file system read-only but the emptyDir writable", async () => {
        expect((await sandbox.exec("web-0", "web", ["touch", "/var/tmp/pod-runner-probe"])).code).not.toEqual(0);
        expect((await sandbox.exec("web-0", "web", ["sh", "-c", "echo x > /tmp/scratch && stat -c '%u %g %a' /tmp /tmp/scratch"])).stdout)
            .toEqual("0 1000 2777\n1000 1000 644\n");
    });

    it("mounts ConfigMap subPath files and Secret files with their modes and the fsGroup", async () => {
        const show = await sandbox.exec("web-0", "web", ["sh", "-c", "stat -c '%u %g %a' /etc/web/serve-copy.sh /etc/web-secret/greeting && cat /etc/web-secret/greeting"]);
        expect(show.stdout).toEqual(`0 1000 755\n0 1000 440\n${GREETING}`);
        expect((await sandbox.exec("web-0", "web", ["sh", "-c", "echo x > /etc/web-secret/greeting"])).code).not.toEqual(0);
    });

    it("evaluates the rendered probes", async () => {
        await expect(sandbox.probe("web-0", "web", "startup")).resolves.toBe(true);
        await expect(sandbox.probe("web-0", "web", "liveness")).resolves.toBe(true);
        await expect(sandbox.probe("web-0", "web", "readiness")).resolves.toBe(true);
        await sandbox.exec("web-0", "web", ["sh", "-c", "mv /data/boots /data/boots.kept && : > /data/boots"]);
        await expect(sandbox.probe("web-0", "web", "readiness")).resolves.toBe(false);
        await sandbox.exec("web-0", "web", ["mv", "/data/boots.kept", "/data/boots"]);
    });

    it("keeps pod namespaces off every network but the pod subnet", async () => {
        const connect = "import socket,sys\ntry:\n socket.create_connection((sys.argv[1], 80), 3)\nexcept OSError as e:\n print(e.strerror)";
        const hostAddress = execFileSync("ip", ["-o", "-4", "addr", "show", "scope", "global"], { encoding: "utf8" })
            .split("\n").map((l) => /inet (\d+\.\d+\.\d+\.\d+)/.exec(l)?.[1]).find((a) => a && !a.startsWith("10.244."));
        for (const target of ["198.51.100.7", hostAddress ?? "192.0.2.2"]) {
            const result = await sandbox.exec("web-0", "web", ["python3", "-c", connect, target]);
            expect(result.stdout.trim()).toEqual("Network is unreachable");
        }
        const unknown = await sandbox.exec("web-0", "web", ["getent", "hosts", "registry.example.com"]);
        expect(unknown.code).toEqual(2);
    });

    it("refuses a root container under runAsNonRoot", async () => {
        await expect(sandbox.startPod("rooty")).rejects.toThrow(/runAsNonRoot/);
        expect(sandboxLinksAndNamespaces(bridge).filter((n) => n.includes("rooty"))).toEqual([]);
    });

    it("fails a container whose script is mounted without exec mode", async () => {
        await sandbox.startPod("noexec", 0);
        await expect(sandbox.waitReady("noexec-0", "web", 10_000)).rejects.toThrow(/exited \(126\)/);
        expect(sandbox.logs("noexec-0", "web")).toMatch(/Permission denied/);
        await sandbox.stopPod("noexec-0", "SIGKILL");
    });

    it("keeps the PVC across a restart with a new IP, and DNS follows", async () => {
        const before = sandbox.ip("web-1");
        await sandbox.stopPod("web-1");
        expect(sandbox.isRunning("web-1", "web")).toBe(false);
        await sandbox.startPod("web", 1);
        await sandbox.waitReady("web-1", "web", 20_000);
        const after = sandbox.ip("web-1");
        expect(after).not.toEqual(before);
        expect((await httpGet(after, 8080, "/boots")).body.trim().split("\n")).toEqual([
            "web-1 1000 1000 1000", "web-1 1000 1000 1000",
        ]);
        const seen = await sandbox.exec("web-0", "web", ["getent", "hosts", "web-1.web-headless.sbx.svc.cluster.local"]);
        expect(seen.stdout.split(/\s+/)[0]).toEqual(after);
    });

    it("publishes a ClusterIP Service only through ready pods, a publishNotReadyAddresses one through all", async () => {
        const names = async (name: string) => (await sandbox.runClient(["getent", "ahosts", name])).stdout
            .split("\n").filter((l) => l.includes("STREAM")).map((l) => l.split(/\s+/)[0]).sort();
        const both = [sandbox.ip("web-0"), sandbox.ip("web-1")].sort();
        expect(await names("web.sbx.svc.cluster.local")).toEqual(both);
        await sandbox.exec("web-0", "web", ["mv", "/data/boots", "/data/boots.kept"]);
        await until(() => !sandbox.isReady("web-0", "web"), 10_000, "web-0 to turn unready");
        expect(await names("web.sbx.svc.cluster.local")).toEqual([sandbox.ip("web-1")]);
        expect(await names("web-headless.sbx.svc.cluster.local")).toEqual(both);
        await sandbox.exec("web-0", "web", ["mv", "/data/boots.kept", "/data/boots"]);
        await sandbox.waitReady("web-0", "web", 10_000);
        expect(await names("web")).toEqual(both);
    });

    it("forwards a host port to the Service's pods like a kind NodePort mapping", async () => {
        const port = await freePort();
        await sandbox.exposeNodePort("web", 80, port);
        const seen = new Set<string>();
        for (let i = 0; i < 4; i++) {
            const response = await httpGet("127.0.0.1", port, "/boots");
            expect(response.status).toEqual(200);
            seen.add(response.body.split(" ")[0]);
        }
        expect([...seen].sort()).toEqual(["web-0", "web-1"]);
    });

    it("runs clients that resolve cluster names", async () => {
        const result = await sandbox.runClient(["getent", "hosts", "web.sbx.svc.cluster.local"]);
        expect(result.code).toEqual(0);
        expect(result.stdout.split("\n").filter(Boolean).map((l) => l.split(/\s+/)[0]).sort()).toEqual([sandbox.ip("web-0"), sandbox.ip("web-1")].sort());
    });

    it("cleans up after an owner that exits or is terminated without destroy()", async () => {
        for (const end of ["exit", "SIGTERM"] as const) {
            const owner = await startOwner(workDir, end === "exit" ? "exit" : "wait");
            expect(alive(owner.podPid)).toBe(true);
            if (end === "SIGTERM") {
                owner.child.kill("SIGTERM");
            }
            await until(() => owner.child.exitCode !== null || owner.child.signalCode !== null, 15_000, `owner to end (${end})`);
            expect(sandboxLinksAndNamespaces(bridgeOf(owner.hostIp))).toEqual([]);
            await until(() => !alive(owner.podPid), 5_000, `pod process to die (${end})`);
        }
    });

    it("removes a SIGKILLed owner's leftovers at the next create(), and only those", async () => {
        const owner = await startOwner(workDir, "wait");
        owner.child.kill("SIGKILL");
        await until(() => owner.child.signalCode !== null, 10_000, "owner to die");
        expect(sandboxLinksAndNamespaces(bridgeOf(owner.hostIp)).length).toBeGreaterThan(0);
        expect(alive(owner.podPid)).toBe(true);
        const next = await PodSandbox.create({ manifests, workDir: path.join(workDir, "next"), images: {} });
        try {
            // The freed index may be claimed again at once, by the new sandbox's bare bridge.
            expect(sandboxLinksAndNamespaces(bridgeOf(owner.hostIp))).toEqual(next.hostIp === owner.hostIp ? [bridgeOf(owner.hostIp)] : []);
            await until(() => !alive(owner.podPid), 5_000, "orphaned pod process to be killed");
            expect(sandboxLinksAndNamespaces(bridge)).toContain(bridge);
            expect(sandbox.isRunning("web-0", "web")).toBe(true);
        } finally {
            await next.destroy();
        }
    });

    it("leaves no namespace or link behind", async () => {
        expect(sandboxLinksAndNamespaces(bridge).length).toBeGreaterThan(0);
        await sandbox.destroy();
        await sandbox.destroy();
        expect(sandboxLinksAndNamespaces(bridge)).toEqual([]);
    });
});

describe("pod runner with kubelet restarts", () => {
    let sandbox: PodSandbox;
    let workDir: string;

    beforeAll(async () => {
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "pod-runner-restarts-"));
        sandbox = await PodSandbox.create({
            manifests, workDir, restartContainers: true, restartBackoffMs: 300,
            images: { [IMAGE]: { env: { PATH: "/usr/bin:/bin" } } },
        });
    });

    afterAll(async () => {
        await sandbox?.destroy();
        fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("restarts an exited container in the same pod: same IP, emptyDir kept", async () => {
        await sandbox.startPod("flaky", 0);
        const ip = sandbox.ip("flaky-0");
        await sandbox.waitReady("flaky-0", "main", 15_000);
        expect(sandbox.restartCount("flaky-0", "main")).toEqual(1);
        expect(sandbox.ip("flaky-0")).toEqual(ip);
        expect(sandbox.logs("flaky-0", "main")).toEqual("booted again\n");
        expect(sandbox.events("flaky-0").join("\n")).toMatch(/container main exited \(3\)\n.*back-off 300 ms restarting container main \(restart 1\)/);
    });

    it("kills a container whose liveness probe fails, and starts it again", async () => {
        await sandbox.exec("flaky-0", "main", ["touch", "/scratch/kill-me"]);
        await until(() => sandbox.restartCount("flaky-0", "main") === 2, 15_000, "the liveness restart");
        await sandbox.waitReady("flaky-0", "main", 15_000);
        expect(sandbox.events("flaky-0").join("\n")).toMatch(/liveness probe of main failed 1 times: killing the container/);
        expect(sandbox.isRunning("flaky-0", "main")).toBe(true);
    });
});
