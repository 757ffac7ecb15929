/**
 * Pure pieces of the pod runner: how the kubelet and the container runtime turn a rendered pod spec into a
 * process (environment, `$(VAR)` expansion, command, identity, volume ownership) and how cluster DNS answers.
 * Kept free of side effects so they are unit-tested against the Kubernetes rules without starting anything.
 */
import * as os from "os";

export type Manifest = Record<string, any>;

/** The node every sandbox pod "runs on" (downward API `spec.nodeName`). */
export const NODE_NAME = "sandbox-node";
export const CLUSTER_DOMAIN = "cluster.local";

const WORKLOAD_KINDS = new Set(["StatefulSet", "Deployment", "Job", "DaemonSet", "ReplicaSet"]);

export function isWorkload(manifest: Manifest): boolean {
    return WORKLOAD_KINDS.has(manifest.kind);
}

/**
 * Kubernetes `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion): `$$` is a literal `$`,
 * `$(NAME)` is replaced when NAME is known and kept verbatim otherwise, any other `$` stays as it is.
 */
export function expand(input: string, vars: ReadonlyMap<string, string>): string {
    let out = "";
    let i = 0;
    while (i < input.length) {
        const c = input[i];
        if (c !== "$" || i + 1 >= input.length) {
            out += c;
            i += 1;
            continue;
        }
        const next = input[i + 1];
        if (next === "$") {
            out += "$";
            i += 2;
        } else if (next === "(") {
            const close = input.indexOf(")", i + 2);
            if (close < 0) {
                out += "$(";
                i += 2;
                continue;
            }
            const name = input.slice(i + 2, close);
            out += vars.has(name) ? vars.get(name)! : `$(${name})`;
            i = close + 1;
        } else {
            out += "$" + next;
            i += 2;
        }
    }
    return out;
}

const SUFFIXES: Record<string, number> = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("500m", "1Gi", "2e3", 3) as a plain number. */
export function parseQuantity(quantity: string | number): number {
    if (typeof quantity === "number") {
        return quantity;
    }
    const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(quantity.trim());
    if (!match) {
        throw new Error(`invalid resource quantity "${quantity}"`);
    }
    const base = Number(match[1]);
    return match[2] ? base * 10 ** Number(match[2].slice(1)) : base * SUFFIXES[match[3] ?? ""];
}

/** What the pod looks like to the downward API and to the sandbox. */
export interface PodIdentity {
    name: string;
    namespace: string;
    ip: string;
    hostIP: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    serviceAccountName: string;
    uid: string;
}

/** The value the kubelet gives a `resourceFieldRef` (node allocatable stands in for a missing limit). */
export function resourceFieldValue(container: Manifest, ref: { resource: string; divisor?: string | number }): string {
    const [kind, resource] = ref.resource.split(".");
    const resources = container.resources ?? {};
    const limits = resources.limits ?? {};
    const requests = resources.requests ?? {};
    const nodeAllocatable: Record<string, number> = { cpu: os.cpus().length, memory: os.totalmem() };
    if (!(resource in nodeAllocatable) || (kind !== "limits" && kind !== "requests")) {
        throw new Error(`resourceFieldRef "${ref.resource}" is not supported by the pod runner (cpu and memory limits/requests are)`);
    }
    let amount: number;
    if (kind === "limits") {
        amount = limits[resource] !== undefined ? parseQuantity(limits[resource]) : nodeAllocatable[resource];
    } else {
        const requested = requests[resource] ?? limits[resource];
        amount = requested !== undefined ? parseQuantity(requested) : 0;
    }
    const divisor = parseQuantity(ref.divisor ?? 1);
    return String(Math.ceil(amount / divisor - 1e-9));
}

function fieldRefValue(path: string, pod: PodIdentity): string {
    const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
    if (keyed) {
        return (keyed[1] === "labels" ? pod.labels : pod.annotations)[keyed[2]] ?? "";
    }
    const values: Record<string, string> = {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "metadata.uid": pod.uid,
        "spec.nodeName": NODE_NAME,
        "spec.serviceAccountName": pod.serviceAccountName,
        "status.hostIP": pod.hostIP,
        "status.hostIPs": pod.hostIP,
        "status.podIP": pod.ip,
        "status.podIPs": pod.ip,
    };
    if (!(path in values)) {
        throw new Error(`fieldRef "${path}" is not supported by the pod runner`);
    }
    return values[path];
}

/** Lookup of ConfigMap data and Secret values the way the kubelet sees them (Secrets already decoded). */
export interface ObjectSource {
    configMap(namespace: string, name: string): Record<string, string> | undefined;
    secret(namespace: string, name: string): Record<string, string> | undefined;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * The container's environment as the kubelet builds it: `envFrom` sources in order, then `env` in order, each
 * value `$(VAR)`-expanded against what was defined before it. The image's ENV is not visible to expansion
 * (the kubelet never sees it); the runtime puts it underneath (see `processEnvironment`).
 */
export function containerEnvironment(container: Manifest, pod: PodIdentity, objects: ObjectSource): Map<string, string> {
    const env = new Map<string, string>();
    const missing = (what: string) => new Error(`container "${container.name}" of pod ${pod.name}: ${what}`);
    for (const source of container.envFrom ?? []) {
        const prefix: string = source.prefix ?? "";
        const ref = source.configMapRef ?? source.secretRef;
        const data = source.configMapRef ? objects.configMap(pod.namespace, ref.name) : objects.secret(pod.namespace, ref.name);
        if (!data) {
            if (ref.optional) {
                continue;
            }
            throw missing(`envFrom ${source.configMapRef ? "ConfigMap" : "Secret"} "${ref.name}" not found`);
        }
        for (const [key, value] of Object.entries(data)) {
            if (ENV_NAME.test(prefix + key)) {
                env.set(prefix + key, value);
            }
        }
    }
    for (const variable of container.env ?? []) {
        const from = variable.valueFrom;
        let value: string | undefined;
        if (!from) {
            value = expand(variable.value ?? "", env);
        } else if (from.fieldRef) {
            value = fieldRefValue(from.fieldRef.fieldPath, pod);
        } else if (from.resourceFieldRef) {
            value = resourceFieldValue(container, from.resourceFieldRef);
        } else if (from.configMapKeyRef || from.secretKeyRef) {
            const ref = from.configMapKeyRef ?? from.secretKeyRef;
            const kind = from.configMapKeyRef ? "ConfigMap" : "Secret";
            const data = from.configMapKeyRef ? objects.configMap(pod.namespace, ref.name) : objects.secret(pod.namespace, ref.name);
            value = data?.[ref.key];
            if (value === undefined && !ref.optional) {
                throw missing(`env ${variable.name}: ${kind} "${ref.name}" has no key "${ref.key}"${kind === "Secret" ? " (give it in secretValues)" : ""}`);
            }
        } else {
            throw missing(`env ${variable.name}: unsupported valueFrom ${JSON.stringify(from)}`);
        }
        if (value !== undefined) {
            env.set(variable.name, value);
        }
    }
    return env;
}

/** What the process finally gets: image ENV, then HOSTNAME, then the container's own environment on top. */
export function processEnvironment(imageEnv: Record<string, string>, hostname: string, containerEnv: Map<string, string>): Map<string, string> {
    const env = new Map<string, string>(Object.entries(imageEnv));
    env.set("HOSTNAME", hostname);
    for (const [key, value] of containerEnv) {
        env.set(key, value);
    }
    return env;
}

/** The image's own process defaults (Dockerfile ENTRYPOINT, CMD, USER, WORKDIR). */
export interface ImageDefaults {
    entrypoint?: string[];
    cmd?: string[];
    workingDir?: string;
}

/**
 * Command line per the Kubernetes rules: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD;
 * both `$(VAR)`-expanded against the container environment.
 */
export function commandLine(container: Manifest, image: ImageDefaults, env: ReadonlyMap<string, string>): string[] {
    const entrypoint: string[] = container.command ?? image.entrypoint ?? [];
    const args: string[] = container.args ?? (container.command ? [] : image.cmd ?? []);
    const argv = [...entrypoint, ...args].map((part) => expand(String(part), env));
    if (argv.length === 0) {
        throw new Error(`container "${container.name}" has no command and its image provision gives no entrypoint/cmd`);
    }
    return argv;
}

/** The uid, gid, groups and privilege settings the runtime applies to a container. */
export interface ProcessIdentity {
    uid: number;
    gid: number;
    groups: number[];
    noNewPrivs: boolean;
    dropAllCapabilities: boolean;
    readOnlyRootFilesystem: boolean;
}

/**
 * Container securityContext over pod securityContext over the image USER; refuses what the kubelet refuses
 * (`runAsNonRoot` with a root or unknown user: "container has runAsNonRoot and image will run as root").
 */
export function processIdentity(podSpec: Manifest, container: Manifest, image: { uid?: number; gid?: number }): ProcessIdentity {
    const pod = podSpec.securityContext ?? {};
    const own = container.securityContext ?? {};
    const uid: number | undefined = own.runAsUser ?? pod.runAsUser ?? image.uid;
    const gid: number = own.runAsGroup ?? pod.runAsGroup ?? image.gid ?? 0;
    const runAsNonRoot: boolean = own.runAsNonRoot ?? pod.runAsNonRoot ?? false;
    if (runAsNonRoot && (uid === undefined || uid === 0)) {
        throw new Error(`container "${container.name}" has runAsNonRoot and image will run as root (runAsUser ${uid ?? "unset"}): the kubelet refuses to start it`);
    }
    const groups = [...new Set<number>([...(pod.fsGroup !== undefined ? [pod.fsGroup] : []), ...(pod.supplementalGroups ?? [])])];
    const drop: string[] = own.capabilities?.drop ?? [];
    return {
        uid: uid ?? 0,
        gid,
        groups,
        noNewPrivs: own.allowPrivilegeEscalation === false,
        dropAllCapabilities: drop.includes("ALL"),
        readOnlyRootFilesystem: own.readOnlyRootFilesystem === true,
    };
}

/** `setpriv` arguments for an identity (its saved uid follows the effective one, so root cannot come back). */
export function setprivArguments(identity: ProcessIdentity): string[] {
    return [
        `--reuid=${identity.uid}`,
        `--regid=${identity.gid}`,
        identity.groups.length > 0 ? `--groups=${identity.groups.join(",")}` : "--clear-groups",
        ...(identity.noNewPrivs ? ["--no-new-privs"] : []),
        ...(identity.dropAllCapabilities ? ["--inh-caps=-all", "--bounding-set=-all"] : []),
    ];
}

/**
 * The mode the kubelet leaves on a file or folder of a volume after applying `fsGroup`
 * (pkg/volume/volume_linux.go): group rw (r only on read-only volumes such as ConfigMaps and Secrets),
 * folders also setgid and group-executable.
 */
export function fsGroupMode(mode: number, isDirectory: boolean, readOnlyVolume: boolean): number {
    let mask = readOnlyVolume ? 0o440 : 0o660;
    if (isDirectory) {
        mask |= 0o2000 | 0o110;
    }
    return (mode & 0o7777) | mask;
}

/** Whether a label selector (`matchLabels` form or a Service's plain map) selects these labels. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
    if (!selector || Object.keys(selector).length === 0) {
        return false;
    }
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A running pod as cluster DNS sees it. */
export interface DnsPod {
    name: string;
    namespace: string;
    ip: string;
    hostname: string;
    subdomain?: string;
    labels: Record<string, string>;
    ready: boolean;
}

function serviceNames(name: string, namespace: string): string[] {
    return [`${name}.${namespace}.svc.${CLUSTER_DOMAIN}`, `${name}.${namespace}.svc`, `${name}.${namespace}`, name];
}

/**
 * The name → address records cluster DNS would serve for these pods and Services, as (ip, names) lines.
 * A pod is published by a Service when selected and either ready or the Service has
 * `publishNotReadyAddresses`; a pod's own `<hostname>.<subdomain>` record needs its governing Service to be
 * headless and to publish it. Service names map to the published pod IPs (ClusterIP Services included: the
 * sandbox has no virtual IPs, the pod addresses stand in for them).
 */
export function clusterDnsRecords(pods: DnsPod[], services: Manifest[]): [string, string[]][] {
    const records: [string, string[]][] = [];
    for (const service of services) {
        if (service.spec?.type === "ExternalName" || !service.spec?.selector) {
            continue;
        }
        const namespace = service.metadata.namespace ?? "default";
        const headless = service.spec.clusterIP === "None";
        const published = pods.filter((p) => p.namespace === namespace && selects(service.spec.selector, p.labels)
            && (p.ready || service.spec.publishNotReadyAddresses === true));
        for (const pod of published) {
            records.push([pod.ip, serviceNames(service.metadata.name, namespace)]);
            if (headless && pod.subdomain === service.metadata.name) {
                records.push([pod.ip, serviceNames(`${pod.hostname}.${service.metadata.name}`, namespace)]);
            }
        }
    }
    return records;
}

const HOSTS_HEADER = [
    "# Kubernetes-managed hosts file (pod runner sandbox).",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
];

/** The /etc/hosts text of a pod (its own line first, as the kubelet writes it) or of a client (`self` omitted). */
export function hostsFile(records: [string, string[]][], self?: { ip: string; hostname: string; subdomain?: string; namespace: string }): string {
    const lines = [...HOSTS_HEADER];
    if (self) {
        const fqdn = self.subdomain ? [`${self.hostname}.${self.subdomain}.${self.namespace}.svc.${CLUSTER_DOMAIN}`] : [];
        lines.push(`${self.ip}\t${[...fqdn, self.hostname].join(" ")}`);
    }
    for (const [ip, names] of records) {
        lines.push(`${ip}\t${names.join(" ")}`);
    }
    return lines.join("\n") + "\n";
}

/** resolv.conf of a pod: the cluster search path, and a nameserver nobody answers on so unknown names fail fast. */
export function resolvConf(namespace: string): string {
    return [
        `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}`,
        "nameserver 127.0.0.1",
        "options ndots:5 timeout:1 attempts:1",
    ].join("\n") + "\n";
}

/** Probe settings with the Kubernetes defaults filled in. */
export interface ProbeTiming {
    initialDelaySeconds: number;
    periodSeconds: number;
    timeoutSeconds: number;
    successThreshold: number;
    failureThreshold: number;
}

export function probeTiming(probe: Manifest): ProbeTiming {
    return {
        initialDelaySeconds: probe.initialDelaySeconds ?? 0,
        periodSeconds: probe.periodSeconds ?? 10,
        timeoutSeconds: probe.timeoutSeconds ?? 1,
        successThreshold: probe.successThreshold ?? 1,
        failureThreshold: probe.failureThreshold ?? 3,
    };
}

/** A container port given by number or by the name of one of the container's ports. */
export function resolvePort(port: number | string, containers: Manifest[]): number {
    if (typeof port === "number") {
        return port;
    }
    if (/^\d+$/.test(port)) {
        return Number(port);
    }
    for (const container of containers) {
        const found = (container.ports ?? []).find((p: Manifest) => p.name === port);
        if (found) {
            return found.containerPort;
        }
    }
    throw new Error(`no container port named "${port}" (have: ${containers.flatMap((c) => (c.ports ?? []).map((p: Manifest) => p.name)).filter(Boolean).join(", ") || "none"})`);
}
