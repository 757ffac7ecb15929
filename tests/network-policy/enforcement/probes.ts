/**
 * Real connections for the reachability matrix on the test cluster (tests/helpers/test-cluster.ts): the pods the
 * connections start from and end at, the shell that opens them, and which pod answers for which row of
 * `reachability()` (tests/helpers/reachability.ts).
 *
 * Workloads whose images cannot run on the test cluster (Kong, AKHQ, kafka-exporter, the Redis exporter sidecar)
 * and ports the dev stack's pods do not open there (a single ZooKeeper member has no quorum ports, the metrics
 * jars are left out) are played by network stand-ins: pods that carry exactly the rendered pod labels and listen
 * on the ports with `redis-server --port N` from the local Redis image. They only accept TCP connections; none
 * of them is Kong, AKHQ or an exporter. They declare no named container port, so no Service of the stack (every
 * one names its target port) ever sends them traffic.
 */
import type { EndpointPort, Protocol, Reach } from "../../helpers/reachability";

/** Every pod these tests add starts with this, so the stack's own pods are told apart by name. */
export const PROBE_POD_PREFIX = "netpol-";
export const STAND_IN_PREFIX = `${PROBE_POD_PREFIX}stand-in-`;
/** Each connection attempt is bounded by this, whether it times out or fails at once. */
export const CONNECT_TIMEOUT_SECONDS = 3;
export const STAND_IN_ANNOTATION = "bss-test/network-stand-in";

/** Where a connection of the matrix starts or ends on the cluster. */
export interface ProbeHost {
    /** The matrix endpoint it plays (`kafka`, `kong`, `outside`, ...). */
    endpoint: string;
    /** `namespace/pod`, or the network namespace's name. */
    id: string;
    /** The container commands run in; undefined for a network namespace on the host (run with `ip netns exec`). */
    exec?: { namespace: string; pod: string; container: string };
    ip: string;
    /** What it accepts connections on, as its own socket table says (listeners bound to the loopback left out). */
    listening: EndpointPort[];
}

/** Prints the network namespace's socket tables, one `# tcp`-style header before each. */
export const SOCKET_TABLES_SCRIPT = "for f in tcp tcp6 udp udp6; do echo \"# $f\"; cat /proc/net/$f 2>/dev/null; done; true";

const LOOPBACK_V6 = "00000000000000000000000001000000";

/**
 * The ports a network namespace accepts connections on, from `SOCKET_TABLES_SCRIPT`'s output: TCP sockets in
 * state LISTEN (0A) and bound UDP sockets (07), on any address but the loopback.
 */
export function parseListening(tables: string): EndpointPort[] {
    const found = new Map<string, EndpointPort>();
    let section = "";
    for (const line of tables.split("\n")) {
        const header = /^# (tcp|tcp6|udp|udp6)$/.exec(line.trim());
        if (header) {
            section = header[1];
            continue;
        }
        const fields = line.trim().split(/\s+/);
        if (!section || fields.length < 4 || !/^\d+:$/.test(fields[0])) {
            continue;
        }
        const [address, portHex] = fields[1].split(":");
        const protocol: Protocol = section.startsWith("tcp") ? "TCP" : "UDP";
        const state = fields[3];
        if ((protocol === "TCP" && state !== "0A") || (protocol === "UDP" && state !== "07")) {
            continue;
        }
        // /proc/net/tcp writes an IPv4 address as one little-endian word: 127.x.y.z ends in 7F.
        const loopback = address.length === 8 ? address.endsWith("7F") : address === LOOPBACK_V6 || address.endsWith("0000FFFF0100007F");
        if (loopback) {
            continue;
        }
        const port = parseInt(portHex, 16);
        found.set(`${protocol}/${port}`, { port, protocol });
    }
    return [...found.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

export interface PlannedProbe {
    row: Reach;
    source: ProbeHost;
    destination: ProbeHost;
}

/**
 * For each row, a destination host of `row.to` that listens on the port and a source host of `row.from` that is
 * another pod (a pod's connection to itself never crosses the network). Throws naming every row no pair of hosts
 * can check, so a row is never silently left out.
 */
export function planProbes(rows: Reach[], hosts: ProbeHost[]): PlannedProbe[] {
    const planned: PlannedProbe[] = [];
    const uncovered: string[] = [];
    for (const row of rows) {
        const destination = hosts.find((h) => h.endpoint === row.to && h.listening.some((l) => l.port === row.port && l.protocol === row.protocol));
        const source = destination && hosts.find((h) => h.endpoint === row.from && h.id !== destination.id);
        if (!destination || !source) {
            uncovered.push(`${row.from} -> ${row.to}:${row.port}/${row.protocol} (${destination ? `no other host plays ${row.from}` : `nothing of ${row.to} listens there`})`);
            continue;
        }
        planned.push({ row, source, destination });
    }
    if (uncovered.length > 0) {
        throw new Error(`rows no pair of hosts can check:\n  ${uncovered.join("\n  ")}`);
    }
    return planned;
}

export type Outcome = "open" | "timed out" | "probe error";

export interface ProbeTarget {
    key: string;
    ip: string;
    port: number;
    protocol: Protocol;
}

/**
 * A bash script that tries every target at once and prints `key exit-code` per target. Each target is retried
 * until it opens or `timeoutSeconds` pass (a refusal can be a moment's, e.g. while the firewall rewrites its
 * rules): open means it opened within the bound, 124 (`timeout`'s code) that it never did. TCP: bash's /dev/tcp
 * connect. UDP: a datagram to an echo listener, open when the echo comes back.
 */
export function probeScript(targets: ProbeTarget[], timeoutSeconds = CONNECT_TIMEOUT_SECONDS): string {
    for (const t of targets) {
        if (!/^[\d.]+$/.test(t.ip) || !/^[\w.-]+$/.test(t.key)) {
            throw new Error(`not a probe target: ${JSON.stringify(t)}`);
        }
    }
    // A redirection on `:` that fails does not end the shell, as one on `exec` would.
    const tcp = 'until : 3<>"/dev/tcp/$0/$1"; do sleep 0.2; done';
    const udp = 'until [ "$(exec 3<>"/dev/udp/$0/$1" && printf ping >&3 && timeout 1 head -c 4 <&3)" = ping ]; do sleep 0.2; done';
    return [
        "probe() {",
        "    local rc",
        "    if [ \"$3\" = UDP ]; then",
        `        timeout ${timeoutSeconds} bash -c '${udp}' "$1" "$2" 2>/dev/null`,
        "        rc=$?",
        "    else",
        `        timeout ${timeoutSeconds} bash -c '${tcp}' "$1" "$2" 2>/dev/null`,
        "        rc=$?",
        "    fi",
        "    echo \"$4 $rc\"",
        "}",
        ...targets.map((t) => `probe ${t.ip} ${t.port} ${t.protocol} ${t.key} &`),
        "wait",
    ].join("\n");
}

/**
 * `probeScript`'s output by key: exit 0 is open, 124 (`timeout`) timed out, anything else an error of the probe
 * itself. Throws when a target did not report.
 */
export function parseProbeOutput(stdout: string, keys: string[]): Map<string, Outcome> {
    const outcomes = new Map<string, Outcome>();
    for (const line of stdout.split("\n")) {
        const match = /^(\S+) (\d+)$/.exec(line.trim());
        if (match) {
            const code = Number(match[2]);
            outcomes.set(match[1], code === 0 ? "open" : code === 124 ? "timed out" : "probe error");
        }
    }
    const missing = keys.filter((k) => !outcomes.has(k));
    if (missing.length > 0) {
        throw new Error(`no result for ${missing.join(", ")} in:\n${stdout}`);
    }
    return outcomes;
}

export interface ProbePodSpec {
    name: string;
    namespace: string;
    /** Exactly the labels of the pods it plays. */
    labels: Record<string, string>;
    /** TCP ports it accepts connections on: one `redis-server --port N` container each. */
    listen: number[];
    /** What it is, in its annotation: never a claim to be the workload it plays. */
    purpose: string;
    /** A second container with Kafka's tools (the local Kafka image), idle until a test runs a client in it. */
    kafkaClient?: boolean;
}

export interface ProbeImages {
    /** Has bash, coreutils and redis-server. */
    redis: string;
    /** Has bash, coreutils and Kafka's jars under /opt/kafka/libs. */
    kafka: string;
}

const REDIS_IMAGE_USER = 999;
const KAFKA_IMAGE_USER = 1000;

function restrictedContext(user: number): Record<string, any> {
    return {
        runAsNonRoot: true,
        runAsUser: user,
        runAsGroup: user,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** The container probes run in: the first one, which has bash and coreutils in either shape. */
export function probeContainer(spec: ProbePodSpec): string {
    return spec.listen.length > 0 ? `listen-${spec.listen[0]}` : "shell";
}
export const KAFKA_CLIENT_CONTAINER = "kafka-client";

/** A pod passing PodSecurity `restricted` that plays `spec.labels` on the network. */
export function probePod(spec: ProbePodSpec, images: ProbeImages): Record<string, any> {
    const listeners = spec.listen.map((port) => ({
        name: `listen-${port}`,
        image: images.redis,
        // Nothing is stored: no snapshot, no append-only file, the working directory never written.
        command: ["redis-server", "--port", String(port), "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", "/tmp"],
        ports: [{ containerPort: port, protocol: "TCP" }],
        readinessProbe: { tcpSocket: { port }, periodSeconds: 2 },
        // Room for the probes run in it: two dozen short-lived shells at once besides redis-server.
        resources: { requests: { cpu: "5m", memory: "64Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
        securityContext: restrictedContext(REDIS_IMAGE_USER),
    }));
    const idle = (name: string, image: string, user: number, memory: string) => ({
        name,
        image,
        command: ["sleep", "infinity"],
        resources: { requests: { cpu: "5m", memory }, limits: { cpu: "1", memory } },
        securityContext: restrictedContext(user),
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    });
    const containers = [
        ...(listeners.length > 0 ? listeners : [idle("shell", images.redis, REDIS_IMAGE_USER, "64Mi")]),
        ...(spec.kafkaClient ? [idle(KAFKA_CLIENT_CONTAINER, images.kafka, KAFKA_IMAGE_USER, "512Mi")] : []),
    ];
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: spec.name, namespace: spec.namespace, labels: { ...spec.labels }, annotations: { [STAND_IN_ANNOTATION]: spec.purpose } },
        spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            // `sleep` as PID 1 ignores SIGTERM: do not wait long for it.
            terminationGracePeriodSeconds: 2,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers,
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
    };
}

/**
 * A Node.js program for a network namespace outside the pod network: accepts (and closes) TCP connections on
 * `tcp`, echoes UDP datagrams on `udp`.
 */
export function outsideListenerProgram(tcp: number[], udp: number[]): string {
    return [
        "const net = require('net'), dgram = require('dgram');",
        `for (const port of ${JSON.stringify(tcp)}) net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen(port, '0.0.0.0');`,
        `for (const port of ${JSON.stringify(udp)}) { const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(port, '0.0.0.0'); }`,
    ].join("\n");
}

/** A row as seen from the source: whether the connection opened. Which side refused it cannot be seen. */
export interface ObservedRow {
    from: string;
    to: string;
    port: number;
    protocol: Protocol;
    allowed: boolean;
    outcome: Outcome;
}

export function observedRows(planned: PlannedProbe[], outcomes: Outcome[]): ObservedRow[] {
    return planned.map((p, i) => ({ from: p.row.from, to: p.row.to, port: p.row.port, protocol: p.row.protocol, allowed: outcomes[i] === "open", outcome: outcomes[i] }));
}

const targetKey = (r: { to: string; port: number; protocol: Protocol }) => `${r.to}:${r.port}${r.protocol === "TCP" ? "" : `/${r.protocol.toLowerCase()}`}`;

/** The shape of `allowedSources()` (tests/helpers/reachability.ts) for observed rows: `to:port` → sorted open sources. */
export function openSources(rows: ObservedRow[]): Record<string, string[]> {
    const table: Record<string, string[]> = {};
    for (const row of rows) {
        table[targetKey(row)] ??= [];
        if (row.allowed) {
            table[targetKey(row)].push(row.from);
        }
    }
    for (const key of Object.keys(table)) {
        table[key].sort();
    }
    return table;
}

/**
 * The matrix as text: one line per destination port, one column per source; `+` open, `.` closed, as derived;
 * where the observation differs, `X` (open, but derived closed) or `O` (closed, but derived open).
 */
export function matrixTable(observed: ObservedRow[], derived: Reach[]): string {
    const key = targetKey;
    const expected = new Map(derived.map((r) => [`${r.from} ${key(r)}`, r.allowed]));
    const sources = [...new Set(observed.map((r) => r.from))].sort();
    const targets = [...new Set(observed.map(key))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const cells = new Map(observed.map((r) => {
        const wanted = expected.get(`${r.from} ${key(r)}`);
        const mark = r.allowed === wanted ? (r.allowed ? "+" : ".") : r.allowed ? "X" : "O";
        return [`${r.from} ${key(r)}`, mark];
    }));
    const width = Math.max(...targets.map((t) => t.length)) + 2;
    const header = `${"to \\ from".padEnd(width)}${sources.map((s, i) => `${i + 1}`.padStart(3)).join("")}`;
    const legend = sources.map((s, i) => `${i + 1}=${s}`).join("  ");
    const lines = targets.map((t) => `${t.padEnd(width)}${sources.map((s) => (cells.get(`${s} ${t}`) ?? " ").padStart(3)).join("")}`);
    const outcomes = observed.reduce<Record<string, number>>((counts, r) => ({ ...counts, [r.outcome]: (counts[r.outcome] ?? 0) + 1 }), {});
    return [header, ...lines, "", `sources: ${legend}`, "+ open, . closed (as derived); X open but derived closed, O closed but derived open",
        `outcomes: ${Object.entries(outcomes).map(([o, n]) => `${n} ${o}`).join(", ")}`].join("\n");
}
