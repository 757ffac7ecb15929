/**
 * Runs rendered pod specs on this machine, as root, without a cluster: one network namespace per pod (its real
 * ports, its own IP on a private bridge), one private mount namespace per container (ConfigMaps, Secrets,
 * emptyDirs, PVCs and the image's files bind-mounted at their paths), the container's uid/gid/fsGroup through
 * `setpriv`, cluster DNS through a hosts file kept current as pods start, stop and turn ready.
 * What it does not emulate (PID namespaces, seccomp, resource limits, container restarts, liveness kills,
 * Service virtual IPs) is listed in the README's "Pod runner" section.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import {
    clusterDnsRecords, commandLine, containerEnvironment, DnsPod, fsGroupMode, hostsFile, isWorkload, Manifest,
    ObjectSource, PodIdentity, probeTiming, processEnvironment, processIdentity, ProcessIdentity, resolvConf,
    resolvePort, selects, setprivArguments,
} from "./pod-spec";
import { SandboxNetwork } from "./sandbox-network";

export interface ImageProvision {
    /** Host directories bind-mounted inside the container, e.g. {"/opt/kafka": "/work/main/.cache/kafka-home"}. */
    mounts?: Record<string, string>;
    /** The image's own ENV (its Dockerfile's), under the container's env, e.g. {PATH: "/usr/local/bin:/usr/bin:/bin"}. */
    env?: Record<string, string>;
    /** The image's USER uid; default 0 (root), which `runAsNonRoot` refuses unless the pod sets `runAsUser`. */
    uid?: number;
    /** The image's USER gid; default 0. */
    gid?: number;
    /** The image's ENTRYPOINT; default none (the container must give `command`). */
    entrypoint?: string[];
    /** The image's CMD; default none. */
    cmd?: string[];
    /** The image's WORKDIR; default "/". */
    workingDir?: string;
}

export interface SandboxOptions {
    /** Rendered Kubernetes objects (RenderedStack.manifests from tests/helpers/render.ts). */
    manifests: Record<string, any>[];
    /** Scratch root: PVC folders (kept across pod restarts), emptyDirs, logs, per-pod files. */
    workDir: string;
    /** How each image the started containers use is provided on this host (key: exact image reference). */
    images: Record<string, ImageProvision>;
    /** Real values for Secrets (rendered Secret values are "<redacted>"): secretName -> key -> value. */
    secretValues?: Record<string, Record<string, string>>;
    /**
     * Restart exited containers under the pod's `restartPolicy` (default Always) the way the kubelet does, with its
     * back-off doubling from `restartBackoffMs` up to 5 minutes, and kill a container whose liveness probe fails
     * `failureThreshold` times in a row; default false: an exited container stays exited and liveness is only
     * evaluated on demand (`probe`). Init containers are never restarted: a failing one fails `startPod`.
     */
    restartContainers?: boolean;
    /** First restart back-off in ms; default 10 000 (the kubelet's). */
    restartBackoffMs?: number;
}

export interface CommandResult { code: number; stdout: string; stderr: string }

/** Exit code reported when a command outlives its timeout (the coreutils `timeout` convention). */
export const TIMEOUT_EXIT_CODE = 124;
const HARNESS_DIR = __dirname;
const ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const DEFAULT_INIT_TIMEOUT_MS = 120_000;
const EXIT_WAIT_MS = 10_000;
const LOG_TAIL_LINES = 40;
const MAX_RESTART_BACKOFF_MS = 300_000;

interface ContainerRun {
    spec: Manifest;
    planned: PlannedContainer;
    init: boolean;
    restarts: number;
    restartPending: boolean;
    process: ChildProcess;
    pid: number;
    exit?: { code: number | null; signal: NodeJS.Signals | null };
    exited: Promise<void>;
    envFile: string;
    identityFile: string;
    workingDir: string;
    identity: ProcessIdentity;
    startedAt: number;
    ready: boolean;
}

interface PodRun {
    name: string;
    namespace: string;
    spec: Manifest;
    identity: PodIdentity;
    hostname: string;
    subdomain?: string;
    netns: string;
    dir: string;
    hostsPath: string;
    containers: Map<string, ContainerRun>;
    skipped: string[];
    stopping: boolean;
    timers: Set<NodeJS.Timeout>;
}

interface ClientRun {
    netns: string;
    ip: string;
    process: ChildProcess;
}

interface PlannedContainer {
    spec: Manifest;
    image: ImageProvision;
    identity: ProcessIdentity;
    env: Map<string, string>;
    argv: string[];
    workingDir: string;
    mounts: MountEntry[];
}

interface MountEntry { source: string; target: string; readOnly: boolean }

const liveSandboxes = new Set<PodSandbox>();
let safetyNetArmed = false;

function armSafetyNet(): void {
    if (safetyNetArmed) {
        return;
    }
    safetyNetArmed = true;
    process.on("exit", () => liveSandboxes.forEach((s) => s.destroySync()));
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            liveSandboxes.forEach((s) => s.destroySync());
            process.kill(process.pid, signal);
        });
    }
}

function writeNulFile(file: string, entries: string[]): void {
    fs.writeFileSync(file, entries.map((e) => e + "\0").join(""), { mode: 0o600 });
}

function tail(text: string, lines = LOG_TAIL_LINES): string {
    return text.split("\n").slice(-lines - 1).join("\n");
}

function depth(target: string): number {
    return path.posix.normalize(target).split("/").filter(Boolean).length;
}

/** Whether `promise` settles within `ms`; the timer is cleared either way so it never holds the process open. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
        return await Promise.race([promise.then(() => true as const), expired]);
    } finally {
        clearTimeout(timer);
    }
}

/**
 * Replaces a file's content without a moment of emptiness and without a new inode (bind mounts of the file
 * in running pods keep pointing at this inode): overwrite from the start, then cut what is left of the old text.
 */
function rewriteInPlace(file: string, content: string): void {
    const fd = fs.openSync(file, fs.existsSync(file) ? "r+" : "w");
    try {
        const bytes = Buffer.from(content);
        fs.writeSync(fd, bytes, 0, bytes.length, 0);
        fs.ftruncateSync(fd, bytes.length);
    } finally {
        fs.closeSync(fd);
    }
}

/** Recursively applies the kubelet's fsGroup ownership to a volume folder. */
function applyFsGroup(root: string, fsGroup: number, readOnlyVolume: boolean): void {
    const visit = (p: string) => {
        const stat = fs.lstatSync(p);
        if (stat.isSymbolicLink()) {
            return;
        }
        fs.lchownSync(p, stat.uid, fsGroup);
        fs.chmodSync(p, fsGroupMode(stat.mode, stat.isDirectory(), readOnlyVolume));
        if (stat.isDirectory()) {
            fs.readdirSync(p).forEach((child) => visit(path.join(p, child)));
        }
    };
    visit(root);
}

export class PodSandbox {
    private readonly manifests: Manifest[];
    private readonly workDir: string;
    private readonly images: Record<string, ImageProvision>;
    private readonly secretValues: Record<string, Record<string, string>>;
    private readonly network: SandboxNetwork;
    private readonly pods = new Map<string, PodRun>();
    private readonly clients = new Set<ClientRun>();
    private readonly servers = new Set<net.Server>();
    private readonly sockets = new Set<net.Socket>();
    private readonly podEvents = new Map<string, string[]>();
    private readonly roundRobin = new Map<string, number>();
    private clientCounter = 0;
    private destroyed = false;
    private readonly restartContainers: boolean;
    private readonly restartBackoffMs: number;

    private constructor(options: SandboxOptions, network: SandboxNetwork) {
        this.manifests = options.manifests;
        this.workDir = path.resolve(options.workDir);
        this.images = options.images;
        this.secretValues = options.secretValues ?? {};
        this.restartContainers = options.restartContainers ?? false;
        this.restartBackoffMs = options.restartBackoffMs ?? 10_000;
        this.network = network;
    }

    /** Claims a private subnet and bridge (removing leftovers of crashed runs first); needs root. */
    static async create(options: SandboxOptions): Promise<PodSandbox> {
        if (process.getuid?.() !== 0) {
            throw new Error("the pod runner needs root (network namespaces, bind mounts, setpriv)");
        }
        const network = SandboxNetwork.create();
        const sandbox = new PodSandbox(options, network);
        liveSandboxes.add(sandbox);
        armSafetyNet();
        fs.mkdirSync(path.join(sandbox.workDir, "dns"), { recursive: true });
        sandbox.refreshDns();
        return sandbox;
    }

    /** The private subnet's gateway (the root namespace's address on the bridge). */
    get hostIp(): string {
        return this.network.gateway;
    }

    // ----- objects -------------------------------------------------------------------------------------------

    private find(kind: string, name: string, namespace?: string): Manifest | undefined {
        return this.manifests.find((m) => m.kind === kind && m.metadata?.name === name && (namespace === undefined || (m.metadata?.namespace ?? "default") === namespace));
    }

    private get services(): Manifest[] {
        return this.manifests.filter((m) => m.kind === "Service");
    }

    private readonly objects: ObjectSource = {
        configMap: (namespace, name) => {
            const cm = this.find("ConfigMap", name, namespace);
            if (!cm) {
                return undefined;
            }
            const binary = Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(String(v), "base64").toString("utf8")]));
            return { ...binary, ...(cm.data ?? {}) };
        },
        secret: (namespace, name) => (this.find("Secret", name, namespace) ? this.secretValues[name] : undefined),
    };

    private workload(name: string): Manifest {
        const found = this.manifests.filter((m) => isWorkload(m) && m.metadata?.name === name);
        if (found.length !== 1) {
            const all = this.manifests.filter(isWorkload).map((m) => `${m.kind}/${m.metadata?.name}`).join(", ");
            throw new Error(found.length === 0 ? `no workload "${name}" in the manifests (have: ${all})` : `workload name "${name}" is ambiguous (${all})`);
        }
        return found[0];
    }

    // ----- pods ----------------------------------------------------------------------------------------------

    /**
     * Starts pod "<workload>-<ordinal>" of a StatefulSet (ordinal required) or one pod of a Deployment/Job
     * ("<workload>-<ordinal ?? 0>"). Runs initContainers to completion in order (each bounded by initTimeoutMs,
     * default 120 s), then the containers listed (default: every container whose image is in `images`; others are
     * skipped and reported by `skippedContainers` and `events`). A new address each start unless `ip` is given.
     * PVC folders (volumeClaimTemplates: <workDir>/pvc/<claim>-<pod>) persist across restarts; emptyDirs do not.
     */
    async startPod(workload: string, ordinal?: number, opts: { ip?: string; containers?: string[]; initTimeoutMs?: number } = {}): Promise<string> {
        this.assertLive();
        const owner = this.workload(workload);
        const statefulSet = owner.kind === "StatefulSet";
        if (statefulSet && ordinal === undefined) {
            throw new Error(`StatefulSet ${workload}: give the ordinal of the pod to start`);
        }
        const name = `${workload}-${ordinal ?? 0}`;
        if (this.pods.has(name)) {
            throw new Error(`pod ${name} is already running`);
        }
        const template = owner.spec?.template ?? {};
        const spec: Manifest = template.spec ?? {};
        const namespace: string = owner.metadata?.namespace ?? "default";
        const labels: Record<string, string> = {
            ...(template.metadata?.labels ?? {}),
            ...(statefulSet ? { "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": String(ordinal) } : {}),
        };
        const ip = this.network.allocateIp(opts.ip);
        const identity: PodIdentity = {
            name, namespace, ip, hostIP: this.network.gateway, labels,
            annotations: template.metadata?.annotations ?? {},
            serviceAccountName: spec.serviceAccountName ?? "default",
            uid: `sandbox-${this.network.index}-${name}-${Date.now()}`,
        };
        const pod: PodRun = {
            name, namespace, spec, identity,
            hostname: statefulSet ? name : spec.hostname ?? name,
            subdomain: statefulSet ? owner.spec.serviceName : spec.subdomain,
            netns: this.network.netnsName(name),
            dir: path.join(this.workDir, "pods", name),
            hostsPath: path.join(this.workDir, "pods", name, "hosts"),
            containers: new Map(), skipped: [], stopping: false, timers: new Set(),
        };
        const wanted = (spec.containers ?? []).filter((c: Manifest) => opts.containers ? opts.containers.includes(c.name) : c.image in this.images);
        const unknown = (opts.containers ?? []).filter((n) => !(spec.containers ?? []).some((c: Manifest) => c.name === n));
        let planned: { init: PlannedContainer[]; main: PlannedContainer[] };
        try {
            if (unknown.length > 0) {
                throw new Error(`pod ${name} has no container ${unknown.join(", ")}`);
            }
            pod.skipped = (spec.containers ?? []).filter((c: Manifest) => !wanted.includes(c)).map((c: Manifest) => `${c.name} (${c.image})`);
            fs.rmSync(path.join(pod.dir, "volumes"), { recursive: true, force: true });
            fs.mkdirSync(path.join(pod.dir, "run"), { recursive: true, mode: 0o700 });
            fs.mkdirSync(path.join(this.workDir, "logs", name), { recursive: true });
            const volumes = this.prepareVolumes(pod, owner);
            planned = {
                init: (spec.initContainers ?? []).map((c: Manifest) => this.plan(pod, c, volumes)),
                main: wanted.map((c: Manifest) => this.plan(pod, c, volumes)),
            };
        } catch (error) {
            this.network.releaseIp(ip);
            throw error;
        }
        this.event(name, `scheduled with IP ${ip}${pod.skipped.length ? `; containers not started (image not provided or not asked for): ${pod.skipped.join(", ")}` : ""}`);
        this.network.attach(pod.netns, ip);
        this.pods.set(name, pod);
        this.refreshDns();
        try {
            for (const init of planned.init) {
                const run = this.launch(pod, init, true);
                const finished = await within(run.exited, opts.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS);
                if (!finished || run.exit?.code !== 0) {
                    throw new Error(`init container ${init.spec.name} of pod ${name} ${finished ? `exited with ${run.exit?.code ?? run.exit?.signal}` : "did not finish in time"}:\n${tail(this.logs(name, init.spec.name))}`);
                }
                pod.containers.delete(init.spec.name);
            }
            for (const main of planned.main) {
                this.launch(pod, main);
            }
        } catch (error) {
            this.teardownPod(pod);
            throw error;
        }
        for (const main of planned.main) {
            void this.probeLoop(pod, main.spec.name);
        }
        return name;
    }

    /** Every volume of the pod as a host folder, prepared the way the kubelet prepares it for this start. */
    private prepareVolumes(pod: PodRun, owner: Manifest): Map<string, { dir: string; readOnly: boolean }> {
        const volumes = new Map<string, { dir: string; readOnly: boolean }>();
        const fsGroup: number | undefined = pod.spec.securityContext?.fsGroup;
        const onRootMismatch = pod.spec.securityContext?.fsGroupChangePolicy === "OnRootMismatch";
        const fresh = (volume: string, mode: number) => {
            const dir = path.join(pod.dir, "volumes", volume);
            fs.mkdirSync(dir, { recursive: true });
            fs.chmodSync(dir, mode);
            return dir;
        };
        const persistent = (claim: string) => {
            const dir = path.join(this.workDir, "pvc", claim);
            if (!fs.existsSync(dir)) {
                // A freshly formatted block volume: root-owned 0755, so only fsGroup makes it writable for the pod.
                fs.mkdirSync(dir, { recursive: true });
                fs.chmodSync(dir, 0o755);
            }
            if (fsGroup !== undefined) {
                const stat = fs.statSync(dir);
                const matches = stat.gid === fsGroup && (stat.mode & 0o2000) !== 0 && (stat.mode & 0o060) === 0o060;
                if (!(onRootMismatch && matches)) {
                    applyFsGroup(dir, fsGroup, false);
                }
            }
            return dir;
        };
        const writeItems = (dir: string, data: Record<string, string>, items: Manifest[] | undefined, defaultMode: number | undefined, what: string) => {
            const entries: [string, string, number | undefined][] = items
                ? items.map((item) => {
                    if (!(item.key in data)) {
                        throw new Error(`pod ${pod.name}: ${what} has no key "${item.key}"`);
                    }
                    return [item.path, data[item.key], item.mode];
                })
                : Object.keys(data).map((key) => [key, data[key], undefined]);
            for (const [file, content, mode] of entries) {
                const target = path.join(dir, file);
                fs.mkdirSync(path.dirname(target), { recursive: true });
                fs.writeFileSync(target, content);
                fs.chmodSync(target, mode ?? defaultMode ?? 0o644);
            }
        };
        for (const volume of pod.spec.volumes ?? []) {
            const name: string = volume.name;
            if (volume.configMap || volume.secret) {
                const isSecret = !!volume.secret;
                const source = volume.configMap ?? volume.secret;
                const objectName: string = isSecret ? source.secretName : source.name;
                const data = isSecret ? this.objects.secret(pod.namespace, objectName) : this.objects.configMap(pod.namespace, objectName);
                const dir = fresh(name, 0o755);
                if (!data) {
                    if (!source.optional) {
                        throw new Error(`pod ${pod.name}: volume ${name}: ${isSecret ? "Secret" : "ConfigMap"} "${objectName}" ${isSecret && this.find("Secret", objectName, pod.namespace) ? "has no values in secretValues" : "is not in the manifests"}`);
                    }
                } else {
                    writeItems(dir, data, source.items, source.defaultMode, `${isSecret ? "Secret" : "ConfigMap"} "${objectName}"`);
                }
                if (fsGroup !== undefined) {
                    applyFsGroup(dir, fsGroup, true);
                }
                volumes.set(name, { dir, readOnly: true });
            } else if (volume.emptyDir) {
                const dir = fresh(name, 0o777);
                if (fsGroup !== undefined) {
                    applyFsGroup(dir, fsGroup, false);
                }
                volumes.set(name, { dir, readOnly: false });
            } else if (volume.persistentVolumeClaim) {
                volumes.set(name, { dir: persistent(volume.persistentVolumeClaim.claimName), readOnly: volume.persistentVolumeClaim.readOnly === true });
            } else if (volume.downwardAPI) {
                const dir = fresh(name, 0o755);
                const data: Record<string, string> = {};
                const items: Manifest[] = volume.downwardAPI.items ?? [];
                for (const item of items) {
                    const field: string = item.fieldRef?.fieldPath ?? "";
                    const map = field === "metadata.labels" ? pod.identity.labels : field === "metadata.annotations" ? pod.identity.annotations : undefined;
                    data[item.path] = map ? Object.entries(map).map(([k, v]) => `${k}="${v}"\n`).join("")
                        : field === "metadata.name" ? pod.name : field === "metadata.namespace" ? pod.namespace : field === "metadata.uid" ? pod.identity.uid : "";
                }
                writeItems(dir, data, undefined, volume.downwardAPI.defaultMode, "downwardAPI");
                if (fsGroup !== undefined) {
                    applyFsGroup(dir, fsGroup, true);
                }
                volumes.set(name, { dir, readOnly: true });
            } else {
                throw new Error(`pod ${pod.name}: volume ${name}: type ${Object.keys(volume).filter((k) => k !== "name").join(",")} is not supported by the pod runner`);
            }
        }
        for (const claim of owner.kind === "StatefulSet" ? owner.spec.volumeClaimTemplates ?? [] : []) {
            volumes.set(claim.metadata.name, { dir: persistent(`${claim.metadata.name}-${pod.name}`), readOnly: false });
        }
        return volumes;
    }

    private plan(pod: PodRun, container: Manifest, volumes: Map<string, { dir: string; readOnly: boolean }>): PlannedContainer {
        const image = this.images[container.image];
        if (!image) {
            throw new Error(`pod ${pod.name}: container ${container.name}: image "${container.image}" is not provided (images: ${Object.keys(this.images).join(", ") || "none"})`);
        }
        const identity = processIdentity(pod.spec, container, image);
        const containerEnv = containerEnvironment(container, pod.identity, this.objects);
        const env = processEnvironment(image.env ?? {}, pod.hostname, containerEnv);
        const argv = commandLine(container, image, containerEnv);
        const imageMounts: MountEntry[] = Object.entries(image.mounts ?? {})
            .map(([target, source]) => ({ source, target, readOnly: identity.readOnlyRootFilesystem }))
            .sort((a, b) => depth(a.target) - depth(b.target));
        const volumeMounts: MountEntry[] = (container.volumeMounts ?? []).map((mount: Manifest) => {
            const volume = volumes.get(mount.name);
            if (!volume) {
                throw new Error(`pod ${pod.name}: container ${container.name}: volumeMount "${mount.name}" names no volume`);
            }
            const subPath: string | undefined = mount.subPathExpr ? commandLine({ name: container.name, command: [mount.subPathExpr] }, {}, containerEnv)[0] : mount.subPath;
            let source = volume.dir;
            if (subPath) {
                source = path.join(volume.dir, subPath);
                if (!source.startsWith(volume.dir + path.sep)) {
                    throw new Error(`pod ${pod.name}: subPath "${subPath}" leaves its volume`);
                }
                if (!fs.existsSync(source)) {
                    if (volume.readOnly) {
                        throw new Error(`pod ${pod.name}: container ${container.name}: subPath "${subPath}" does not exist in volume ${mount.name}`);
                    }
                    fs.mkdirSync(source, { recursive: true });
                }
            }
            return { source, target: mount.mountPath, readOnly: mount.readOnly === true || volume.readOnly };
        }).sort((a: MountEntry, b: MountEntry) => depth(a.target) - depth(b.target));
        const dns: MountEntry[] = [
            { source: pod.hostsPath, target: "/etc/hosts", readOnly: true },
            { source: this.resolvPath(pod.namespace), target: "/etc/resolv.conf", readOnly: true },
        ];
        return {
            spec: container, image, identity, env, argv,
            workingDir: container.workingDir ?? image.workingDir ?? "/",
            mounts: [...imageMounts, ...dns, ...volumeMounts],
        };
    }

    private resolvPath(namespace: string): string {
        const file = path.join(this.workDir, "dns", `resolv.${namespace}.conf`);
        if (!fs.existsSync(file)) {
            fs.writeFileSync(file, resolvConf(namespace));
        }
        return file;
    }

    private launch(pod: PodRun, planned: PlannedContainer, init = false, restarts = 0): ContainerRun {
        const base = path.join(pod.dir, "run", planned.spec.name);
        const mountTable = `${base}.mounts`;
        const envFile = `${base}.env`;
        const identityFile = `${base}.identity`;
        writeNulFile(mountTable, planned.mounts.flatMap((m) => [m.source, m.target, m.readOnly ? "ro" : "rw"]));
        writeNulFile(envFile, [...planned.env].map(([k, v]) => `${k}=${v}`));
        writeNulFile(identityFile, setprivArguments(planned.identity));
        const logPath = this.logPath(pod.name, planned.spec.name);
        if (fs.existsSync(logPath)) {
            fs.renameSync(logPath, logPath.replace(/\.log$/, ".previous.log"));
        }
        const log = fs.openSync(logPath, "w");
        const child = this.spawnInNamespace(pod.netns, [
            "/bin/bash", path.join(HARNESS_DIR, "container-start.sh"), mountTable, String(planned.identity.readOnlyRootFilesystem),
            planned.workingDir, envFile, identityFile, "--", ...planned.argv,
        ], ["ignore", log, log]);
        fs.closeSync(log);
        const run: ContainerRun = {
            spec: planned.spec, planned, init, restarts, restartPending: false, process: child, pid: child.pid!, envFile, identityFile,
            workingDir: planned.workingDir, identity: planned.identity, startedAt: Date.now(), ready: false,
            exited: new Promise((resolve) => child.once("exit", (code, signal) => {
                run.exit = { code, signal };
                run.ready = false;
                this.event(pod.name, `container ${planned.spec.name} exited (${code ?? signal})`);
                if (this.pods.get(pod.name) === pod && !pod.stopping) {
                    this.refreshDns();
                    this.scheduleRestart(pod, run);
                }
                resolve();
            })),
        };
        pod.containers.set(planned.spec.name, run);
        // The spec's own command, not the expanded one: expansion may have put a Secret value in it.
        const specCommand = [...(planned.spec.command ?? []), ...(planned.spec.args ?? [])].join(" ") || "(image entrypoint)";
        this.event(pod.name, `container ${planned.spec.name} started (pid ${run.pid}, uid ${planned.identity.uid}): ${specCommand}`);
        return run;
    }

    /** The kubelet's answer to an exited container: start it again in the same pod after a back-off, per restartPolicy. */
    private scheduleRestart(pod: PodRun, run: ContainerRun): void {
        const policy: string = pod.spec.restartPolicy ?? "Always";
        if (!this.restartContainers || run.init || this.destroyed || policy === "Never" || (policy === "OnFailure" && run.exit?.code === 0)) {
            return;
        }
        const delay = Math.min(this.restartBackoffMs * 2 ** run.restarts, MAX_RESTART_BACKOFF_MS);
        run.restartPending = true;
        this.event(pod.name, `back-off ${delay} ms restarting container ${run.spec.name} (restart ${run.restarts + 1})`);
        const timer = setTimeout(() => {
            pod.timers.delete(timer);
            if (pod.stopping || this.destroyed) {
                return;
            }
            try {
                this.launch(pod, run.planned, false, run.restarts + 1);
            } catch (error) {
                run.restartPending = false;
                this.event(pod.name, `restart of container ${run.spec.name} failed: ${(error as Error).message}`);
                return;
            }
            void this.probeLoop(pod, run.spec.name);
        }, delay);
        pod.timers.add(timer);
    }

    /** Restarts so far of a container in its current pod (kubectl's RESTARTS column). */
    restartCount(pod: string, container: string): number {
        return this.pods.get(pod)?.containers.get(container)?.restarts ?? 0;
    }

    private spawnInNamespace(netns: string, argv: string[], stdio: ("ignore" | "pipe" | number)[]): ChildProcess {
        const child = spawn("nsenter", [`--net=/run/netns/${netns}`, "--", "unshare", "--mount", "--propagation", "private", "--", ...argv], {
            detached: true, stdio: stdio as any, cwd: "/", env: { PATH: ROOT_PATH },
        });
        if (child.pid === undefined) {
            throw new Error(`could not start ${argv.join(" ")}`);
        }
        return child;
    }

    private logPath(pod: string, container: string): string {
        return path.join(this.workDir, "logs", pod, `${container}.log`);
    }

    private running(pod: string, container: string): { pod: PodRun; run: ContainerRun } {
        const found = this.pods.get(pod);
        const run = found?.containers.get(container);
        if (!found || !run) {
            throw new Error(`no running pod ${pod} with container ${container} (running: ${[...this.pods.values()].map((p) => `${p.name}[${[...p.containers.keys()].join(",")}]`).join(" ") || "none"})`);
        }
        return { pod: found, run };
    }

    /**
     * Takes the pod out of DNS and Service endpoints, runs preStop exec hooks, SIGTERM, waits up to
     * terminationGracePeriodSeconds (or opts.graceMs, hooks included), then SIGKILLs everything left in the pod's
     * network namespace and removes it. "SIGKILL" kills at once.
     */
    async stopPod(pod: string, signal: "SIGTERM" | "SIGKILL" = "SIGTERM", opts: { graceMs?: number } = {}): Promise<void> {
        const found = this.pods.get(pod);
        if (!found) {
            throw new Error(`pod ${pod} is not running`);
        }
        found.stopping = true;
        found.timers.forEach(clearTimeout);
        found.containers.forEach((c) => (c.ready = false));
        this.refreshDns();
        const alive = [...found.containers.values()].filter((c) => !c.exit);
        if (signal === "SIGTERM") {
            const graceMs = opts.graceMs ?? (found.spec.terminationGracePeriodSeconds ?? 30) * 1000;
            const deadline = Date.now() + graceMs;
            await Promise.all(alive.filter((c) => c.spec.lifecycle?.preStop?.exec).map(async (c) => {
                const hook = await this.exec(pod, c.spec.name, c.spec.lifecycle.preStop.exec.command, { timeoutMs: graceMs })
                    .catch((error: Error) => ({ code: -1, stdout: "", stderr: error.message }));
                this.event(pod, `preStop hook of ${c.spec.name} exited ${hook.code}${hook.code === 0 ? "" : `: ${tail(hook.stderr, 5)}`}`);
            }));
            this.event(pod, "SIGTERM sent");
            alive.forEach((c) => this.signal(c, "SIGTERM"));
            await within(Promise.all(alive.map((c) => c.exited)), Math.max(0, deadline - Date.now()));
            if (alive.some((c) => !c.exit)) {
                this.event(pod, `grace period of ${graceMs} ms over: SIGKILL`);
            }
        } else {
            this.event(pod, "SIGKILL sent");
        }
        this.teardownPod(found);
        await within(Promise.all(alive.map((c) => c.exited)), EXIT_WAIT_MS);
    }

    private signal(run: ContainerRun, signal: NodeJS.Signals): void {
        try {
            process.kill(run.pid, signal);
        } catch {
            // Already exited.
        }
    }

    /** Kills everything in the pod's namespace (as the runtime does when the sandbox goes) and forgets the pod. */
    private teardownPod(pod: PodRun): void {
        pod.stopping = true;
        pod.timers.forEach(clearTimeout);
        this.network.detach(pod.netns);
        this.network.releaseIp(pod.identity.ip);
        if (this.pods.get(pod.name) === pod) {
            this.pods.delete(pod.name);
        }
        this.refreshDns();
    }

    // ----- exec and probes -----------------------------------------------------------------------------------

    /**
     * Runs a command inside the container's mount and network namespaces, in its working directory, as its
     * uid/gid/groups, with its environment plus opts.env (like kubectl exec). A timeout (default 60 s) kills the
     * command and reports exit code 124.
     */
    async exec(pod: string, container: string, command: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CommandResult> {
        const { run } = this.running(pod, container);
        if (run.exit) {
            throw new Error(`container ${container} of pod ${pod} has exited (${run.exit.code ?? run.exit.signal})`);
        }
        let envFile = run.envFile;
        if (opts.env) {
            envFile = `${run.envFile}.exec-${process.hrtime.bigint()}`;
            const env = new Map<string, string>(fs.readFileSync(run.envFile, "utf8").split("\0").filter(Boolean).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
            Object.entries(opts.env).forEach(([k, v]) => env.set(k, v));
            writeNulFile(envFile, [...env].map(([k, v]) => `${k}=${v}`));
        }
        try {
            const child = spawn("/bin/bash", [path.join(HARNESS_DIR, "container-exec.sh"), String(run.pid), run.workingDir, envFile, run.identityFile, "--", ...command], {
                detached: true, stdio: ["ignore", "pipe", "pipe"], cwd: "/", env: { PATH: ROOT_PATH },
            });
            return await collect(child, opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
        } finally {
            if (envFile !== run.envFile) {
                fs.rmSync(envFile, { force: true });
            }
        }
    }

    /** Evaluates the container's rendered probe once (exec, tcpSocket, httpGet) honouring timeoutSeconds; no probe: running. */
    async probe(pod: string, container: string, kind: "readiness" | "liveness" | "startup"): Promise<boolean> {
        const { pod: found, run } = this.running(pod, container);
        const probe: Manifest | undefined = run.spec[`${kind}Probe`];
        if (!probe) {
            return !run.exit;
        }
        if (run.exit) {
            return false;
        }
        const timeoutMs = probeTiming(probe).timeoutSeconds * 1000;
        const port = (p: number | string) => resolvePort(p, found.spec.containers ?? []);
        if (probe.exec) {
            return (await this.exec(pod, container, probe.exec.command, { timeoutMs })).code === 0;
        }
        if (probe.tcpSocket) {
            return tcpCheck(probe.tcpSocket.host ?? found.identity.ip, port(probe.tcpSocket.port), timeoutMs);
        }
        if (probe.httpGet) {
            const get = probe.httpGet;
            return httpCheck(get.scheme === "HTTPS", get.host ?? found.identity.ip, port(get.port), get.path ?? "/",
                Object.fromEntries((get.httpHeaders ?? []).map((h: Manifest) => [h.name, h.value])), timeoutMs);
        }
        throw new Error(`${kind} probe of ${pod}/${container}: only exec, tcpSocket and httpGet probes are supported`);
    }

    /**
     * The kubelet's prober for one container: the startup probe until it passes, then the readiness probe every
     * periodSeconds with its success/failure thresholds (readiness changes republish DNS) and, when the sandbox
     * restarts containers, the liveness probe, whose failure kills the container.
     */
    private async probeLoop(pod: PodRun, container: string): Promise<void> {
        const run = pod.containers.get(container)!;
        const active = () => !pod.stopping && !run.exit && !this.destroyed;
        const wait = (ms: number) => new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
                pod.timers.delete(timer);
                resolve();
            }, ms);
            pod.timers.add(timer);
        });
        const evaluate = async (kind: "readiness" | "liveness" | "startup") => {
            try {
                return await this.probe(pod.name, container, kind);
            } catch (error) {
                if (active()) {
                    this.event(pod.name, `${kind} probe of ${container} errored: ${(error as Error).message}`);
                }
                return false;
            }
        };
        const kill = (why: string) => {
            this.event(pod.name, `${why}: ${this.restartContainers ? "killing the container" : "the kubelet would restart the container"}`);
            if (this.restartContainers) {
                void this.killContainer(pod, run);
            }
        };
        const startup = run.spec.startupProbe;
        if (startup) {
            const timing = probeTiming(startup);
            await wait(timing.initialDelaySeconds * 1000);
            let failures = 0;
            while (active() && !(await evaluate("startup"))) {
                if (++failures >= timing.failureThreshold) {
                    return active() ? kill(`startup probe of ${container} failed ${failures} times`) : undefined;
                }
                await wait(timing.periodSeconds * 1000);
            }
        }
        const liveness = run.spec.livenessProbe;
        if (liveness && this.restartContainers) {
            void (async () => {
                const timing = probeTiming(liveness);
                await wait(Math.max(0, run.startedAt + timing.initialDelaySeconds * 1000 - Date.now()));
                let failures = 0;
                while (active()) {
                    failures = (await evaluate("liveness")) ? 0 : failures + 1;
                    if (failures >= timing.failureThreshold && active()) {
                        return kill(`liveness probe of ${container} failed ${failures} times`);
                    }
                    await wait(timing.periodSeconds * 1000);
                }
            })();
        }
        const readiness = run.spec.readinessProbe;
        if (!readiness) {
            if (active()) {
                this.setReady(pod, run, true);
            }
            return;
        }
        const timing = probeTiming(readiness);
        await wait(Math.max(0, run.startedAt + timing.initialDelaySeconds * 1000 - Date.now()));
        let successes = 0;
        let failures = 0;
        while (active()) {
            if (await evaluate("readiness")) {
                failures = 0;
                if (++successes >= timing.successThreshold && active()) {
                    this.setReady(pod, run, true);
                }
            } else {
                successes = 0;
                if (++failures >= timing.failureThreshold && active()) {
                    this.setReady(pod, run, false);
                }
            }
            await wait(timing.periodSeconds * 1000);
        }
    }

    /** SIGTERM, then SIGKILL after the pod's grace period: how the kubelet ends a container it restarts. */
    private async killContainer(pod: PodRun, run: ContainerRun): Promise<void> {
        this.signal(run, "SIGTERM");
        if (!(await within(run.exited, (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000))) {
            this.signal(run, "SIGKILL");
        }
    }

    private setReady(pod: PodRun, run: ContainerRun, ready: boolean): void {
        if (run.ready !== ready) {
            run.ready = ready;
            this.event(pod.name, `container ${run.spec.name} ${ready ? "ready" : "not ready"}`);
            this.refreshDns();
        }
    }

    /**
     * Waits until the background prober (readiness probe every periodSeconds, after the startup probe) has
     * found the container ready; throws with the pod's events and log tail on timeout, or when the container
     * exits and no restart is pending.
     */
    async waitReady(pod: string, container: string, timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const { run } = this.running(pod, container);
            if (run.ready) {
                return;
            }
            const failure = run.exit && !run.restartPending ? `exited (${run.exit.code ?? run.exit.signal})`
                : Date.now() >= deadline ? `not ready after ${timeoutMs} ms` : undefined;
            if (failure) {
                throw new Error(`${pod}/${container} ${failure}\nevents:\n${this.events(pod).join("\n")}\nlog tail:\n${tail(this.logs(pod, container))}`);
            }
            const pause = Math.min(200, Math.max(1, deadline - Date.now()));
            await within(run.exit ? new Promise(() => undefined) : run.exited, pause);
        }
    }

    // ----- clients -------------------------------------------------------------------------------------------

    private startClient(command: string[], opts: { env?: Record<string, string>; mounts?: Record<string, string> }, stdio: ("ignore" | "pipe")[]): ClientRun {
        this.assertLive();
        const id = `client${++this.clientCounter}`;
        const dir = path.join(this.workDir, "clients", id);
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const mounts: MountEntry[] = [
            { source: this.clientHostsPath, target: "/etc/hosts", readOnly: true },
            { source: this.resolvPath(this.defaultNamespace), target: "/etc/resolv.conf", readOnly: true },
            ...Object.entries(opts.mounts ?? {}).map(([target, source]) => ({ source, target, readOnly: false })).sort((a, b) => depth(a.target) - depth(b.target)),
        ];
        const env = { PATH: process.env.PATH ?? ROOT_PATH, HOME: process.env.HOME ?? "/root", ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}), ...opts.env };
        writeNulFile(path.join(dir, "mounts"), mounts.flatMap((m) => [m.source, m.target, m.readOnly ? "ro" : "rw"]));
        writeNulFile(path.join(dir, "env"), Object.entries(env).map(([k, v]) => `${k}=${v}`));
        writeNulFile(path.join(dir, "identity"), ["--reuid=0", "--regid=0", "--clear-groups"]);
        const ip = this.network.allocateIp();
        const netns = this.network.netnsName(id);
        this.network.attach(netns, ip);
        let child: ChildProcess;
        try {
            child = this.spawnInNamespace(netns, ["/bin/bash", path.join(HARNESS_DIR, "container-start.sh"), path.join(dir, "mounts"), "false",
                process.cwd(), path.join(dir, "env"), path.join(dir, "identity"), "--", ...command], stdio);
        } catch (error) {
            this.network.detach(netns);
            this.network.releaseIp(ip);
            throw error;
        }
        const client: ClientRun = { netns, ip, process: child };
        this.clients.add(client);
        child.once("exit", () => {
            if (this.clients.delete(client)) {
                this.network.detach(netns);
                this.network.releaseIp(ip);
            }
        });
        return client;
    }

    /**
     * Runs a command as root in a fresh "client pod" network namespace on the sandbox subnet that resolves cluster
     * DNS names; env: the runner's PATH, HOME, JAVA_HOME plus opts.env; mounts: container path -> host path.
     * Bounded by timeoutMs (default 120 s, exit code 124 on timeout).
     */
    async runClient(command: string[], opts: { env?: Record<string, string>; timeoutMs?: number; mounts?: Record<string, string> } = {}): Promise<CommandResult> {
        const client = this.startClient(command, opts, ["ignore", "pipe", "pipe"]);
        return collect(client.process, opts.timeoutMs ?? 120_000);
    }

    /** The long-running variant of runClient: its namespace goes when the process exits (or at destroy). */
    spawnClient(command: string[], opts: { env?: Record<string, string>; mounts?: Record<string, string> } = {}): ChildProcess {
        return this.startClient(command, opts, ["pipe", "pipe", "pipe"]).process;
    }

    private get defaultNamespace(): string {
        return this.manifests.find(isWorkload)?.metadata?.namespace ?? "default";
    }

    // ----- services ------------------------------------------------------------------------------------------

    /** The pods a Service routes to right now: selected, running, and ready unless it publishes not-ready ones. */
    private endpoints(service: Manifest): PodRun[] {
        const namespace = service.metadata.namespace ?? "default";
        return [...this.pods.values()].filter((p) => !p.stopping && p.namespace === namespace && selects(service.spec?.selector, p.identity.labels)
            && [...p.containers.values()].every((c) => !c.exit) && (this.podReady(p) || service.spec?.publishNotReadyAddresses === true));
    }

    private podReady(pod: PodRun): boolean {
        return pod.containers.size > 0 && [...pod.containers.values()].every((c) => c.ready && !c.exit);
    }

    /**
     * Emulates kind's extraPortMappings + kube-proxy: listens on listenAddress:hostPort (default 127.0.0.1) and
     * forwards each TCP connection, round-robin, to a running pod the Service selects (ready, unless the Service
     * publishes not-ready addresses) at the Service port's targetPort (named ports resolved). No endpoint: the
     * connection is closed.
     */
    async exposeNodePort(service: string, servicePort: number, hostPort: number, listenAddress = "127.0.0.1"): Promise<void> {
        this.assertLive();
        const matches = this.services.filter((s) => s.metadata?.name === service);
        if (matches.length !== 1) {
            throw new Error(matches.length ? `Service name "${service}" is ambiguous` : `no Service "${service}" in the manifests`);
        }
        const svc = matches[0];
        const port = (svc.spec?.ports ?? []).find((p: Manifest) => p.port === servicePort);
        if (!port) {
            throw new Error(`Service ${service} has no port ${servicePort} (ports: ${(svc.spec?.ports ?? []).map((p: Manifest) => p.port).join(", ")})`);
        }
        const server = net.createServer((incoming) => {
            this.sockets.add(incoming);
            incoming.once("close", () => this.sockets.delete(incoming));
            const candidates = this.endpoints(svc);
            if (candidates.length === 0) {
                incoming.destroy();
                return;
            }
            const turn = this.roundRobin.get(service) ?? 0;
            this.roundRobin.set(service, turn + 1);
            const target = candidates[turn % candidates.length];
            let targetPort: number;
            try {
                targetPort = resolvePort(port.targetPort ?? port.port, target.spec.containers ?? []);
            } catch {
                incoming.destroy();
                return;
            }
            const outgoing = net.connect({ host: target.identity.ip, port: targetPort });
            this.sockets.add(outgoing);
            outgoing.once("close", () => this.sockets.delete(outgoing));
            incoming.pipe(outgoing).pipe(incoming);
            incoming.on("error", () => outgoing.destroy());
            outgoing.on("error", () => incoming.destroy());
            incoming.on("close", () => outgoing.destroy());
            outgoing.on("close", () => incoming.destroy());
        });
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(hostPort, listenAddress, () => {
                server.off("error", reject);
                resolve();
            });
        });
        this.servers.add(server);
    }

    // ----- DNS -----------------------------------------------------------------------------------------------

    private get clientHostsPath(): string {
        return path.join(this.workDir, "dns", "hosts");
    }

    /** Rewrites every hosts file in place (same inode), so the bind mounts inside running pods see the change. */
    private refreshDns(): void {
        if (this.destroyed) {
            return;
        }
        const dnsPods: DnsPod[] = [...this.pods.values()].filter((p) => !p.stopping).map((p) => ({
            name: p.name, namespace: p.namespace, ip: p.identity.ip, hostname: p.hostname, subdomain: p.subdomain,
            labels: p.identity.labels, ready: this.podReady(p),
        }));
        const records = clusterDnsRecords(dnsPods, this.services);
        rewriteInPlace(this.clientHostsPath, hostsFile(records));
        for (const pod of this.pods.values()) {
            rewriteInPlace(pod.hostsPath, hostsFile(records, { ip: pod.identity.ip, hostname: pod.hostname, subdomain: pod.subdomain, namespace: pod.namespace }));
        }
    }

    // ----- inspection ----------------------------------------------------------------------------------------

    /** The running pod's current IP. */
    ip(pod: string): string {
        const found = this.pods.get(pod);
        if (!found) {
            throw new Error(`pod ${pod} is not running`);
        }
        return found.identity.ip;
    }

    /** Whether the container of the running pod has a live process. */
    isRunning(pod: string, container: string): boolean {
        const run = this.pods.get(pod)?.containers.get(container);
        return !!run && !run.exit;
    }

    /** Whether the container's readiness (as the background prober last judged it) is true. */
    isReady(pod: string, container: string): boolean {
        return this.pods.get(pod)?.containers.get(container)?.ready === true;
    }

    /** The container's stdout and stderr since its latest start (the one before is kept as <container>.previous.log). */
    logs(pod: string, container: string): string {
        const file = this.logPath(pod, container);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }

    /** What happened to the pod, in order (starts, probes turning, exits, skipped containers), like `kubectl describe`. */
    events(pod: string): string[] {
        return this.podEvents.get(pod) ?? [];
    }

    /** Containers of a running pod that were not started because their image is not provided. */
    skippedContainers(pod: string): string[] {
        return this.pods.get(pod)?.skipped ?? [];
    }

    private event(pod: string, message: string): void {
        if (this.destroyed) {
            return;
        }
        const line = `${new Date().toISOString()} ${message}`;
        this.podEvents.set(pod, [...(this.podEvents.get(pod) ?? []), line]);
        const dir = path.join(this.workDir, "logs", pod);
        fs.mkdirSync(dir, { recursive: true });
        fs.appendFileSync(path.join(dir, "events.log"), line + "\n");
    }

    // ----- teardown ------------------------------------------------------------------------------------------

    private assertLive(): void {
        if (this.destroyed) {
            throw new Error("the sandbox has been destroyed");
        }
    }

    /** Kills everything, removes namespaces, veths, bridge, forwarders. Idempotent; also armed on process exit and SIGINT/SIGTERM. */
    async destroy(): Promise<void> {
        const exits = [...this.pods.values()].flatMap((p) => [...p.containers.values()].map((c) => c.exited));
        this.destroySync();
        await within(Promise.all(exits), EXIT_WAIT_MS);
    }

    /** Synchronous teardown for process exit handlers; idempotent. */
    destroySync(): void {
        if (this.destroyed) {
            return;
        }
        this.destroyed = true;
        liveSandboxes.delete(this);
        for (const server of this.servers) {
            server.close();
        }
        this.sockets.forEach((s) => s.destroy());
        for (const pod of this.pods.values()) {
            pod.stopping = true;
            pod.timers.forEach(clearTimeout);
        }
        this.clients.clear();
        this.pods.clear();
        this.network.teardown();
    }
}

function collect(child: ChildProcess, timeoutMs: number): Promise<CommandResult> {
    return new Promise((resolve) => {
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        child.stdout?.on("data", (d) => (stdout += d));
        child.stderr?.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => {
            timedOut = true;
            try {
                process.kill(-child.pid!, "SIGKILL");
            } catch {
                // Exited meanwhile.
            }
        }, timeoutMs);
        child.once("close", (code, signal) => {
            clearTimeout(timer);
            resolve(timedOut
                ? { code: TIMEOUT_EXIT_CODE, stdout, stderr: stderr + `\n[pod runner] timed out after ${timeoutMs} ms` }
                : { code: code ?? 128 + (signal ? os.constants.signals[signal] : 0), stdout, stderr });
        });
    });
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(timeoutMs, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
    });
}

function httpCheck(secure: boolean, host: string, port: number, urlPath: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
        const request = (secure ? https : http).request({ host, port, path: urlPath, headers, method: "GET", timeout: timeoutMs, rejectUnauthorized: false }, (response) => {
            response.resume();
            resolve((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 400);
        });
        request.once("timeout", () => {
            request.destroy();
            resolve(false);
        });
        request.once("error", () => resolve(false));
        request.end();
    });
}
