/**
 * The pieces of the enforcement test that can be wrong without a cluster: reading a socket table, choosing which
 * pods check a row, the probe script's verdicts (run for real against listeners on this machine's loopback) and
 * the probe pods' PodSecurity.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as dgram from "dgram";
import * as net from "net";
import { restrictedViolations } from "../../../policy/pod-security";
import type { Reach } from "../../helpers/reachability";
import {
    matrixTable, observedRows, openSources, outsideListenerProgram, parseListening, parseProbeOutput, planProbes, ProbeHost, probeContainer, ProbePodSpec,
    probePod, probeScript,
} from "./probes";

const TABLES = [
    "# tcp",
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 00000000:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1",
    "   1: 0100007F:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1",
    "   2: 0500F40A:2384 0600F40A:D0F2 01 00000000:00000000 00:00000000 00000000  1000        0 3 1",
    "# tcp6",
    "  sl  local_address                         remote_address                        st tx_queue rx_queue",
    "   0: 00000000000000000000000000000000:2386 00000000000000000000000000000000:0000 0A 00000000:00000000",
    "   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000",
    "# udp",
    "  sl  local_address rem_address   st tx_queue rx_queue",
    "   0: 00000000:0035 00000000:0000 07 00000000:00000000",
    "# udp6",
].join("\n");

describe("parseListening", () => {
    it("lists TCP listeners and bound UDP sockets on any address but the loopback, without established connections", () => {
        expect(parseListening(TABLES)).toEqual([
            { port: 53, protocol: "UDP" },
            { port: 9092, protocol: "TCP" },
            { port: 9094, protocol: "TCP" },
        ]);
    });
});

const row = (from: string, to: string, port: number, allowed = true): Reach => ({ from, to, port, protocol: "TCP", egress: allowed, ingress: allowed, allowed });
const host = (endpoint: string, id: string, ports: number[]): ProbeHost => ({
    endpoint, id, ip: "10.244.0.9", exec: { namespace: "bss", pod: id, container: "c" }, listening: ports.map((port) => ({ port, protocol: "TCP" })),
});

describe("planProbes", () => {
    it("connects two different pods of one workload, preferring the first host that listens", () => {
        const hosts = [host("zookeeper", "zookeeper-0", [2181]), host("zookeeper", "stand-in", [2181, 2888]), host("kafka", "kafka-0", [9092])];
        const planned = planProbes([row("zookeeper", "zookeeper", 2181), row("zookeeper", "zookeeper", 2888), row("kafka", "zookeeper", 2181)], hosts);
        expect(planned.map((p) => `${p.source.id} -> ${p.destination.id}`)).toEqual(["stand-in -> zookeeper-0", "zookeeper-0 -> stand-in", "kafka-0 -> zookeeper-0"]);
    });

    it("names every row no pair of hosts can check instead of leaving it out", () => {
        const hosts = [host("redis", "redis-0", [7000]), host("kafka", "kafka-0", [9092])];
        expect(() => planProbes([row("redis", "redis", 7000), row("kafka", "redis", 7001), row("kafka", "redis", 7000)], hosts))
            .toThrow(/redis -> redis:7000\/TCP \(no other host plays redis\)\n {2}kafka -> redis:7001\/TCP \(nothing of redis listens there\)$/);
    });
});

function bash(script: string): Promise<string> {
    return new Promise((resolve, reject) => execFile("bash", ["-c", script], (error, stdout) => (error ? reject(error) : resolve(stdout))));
}

async function freePort(type: "tcp" | "udp"): Promise<number> {
    if (type === "tcp") {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as net.AddressInfo;
        await new Promise((resolve) => server.close(resolve));
        return port;
    }
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(resolve));
    return port;
}

describe("probeScript against the outside listener program", () => {
    let listener: ChildProcess;
    const ports = { tcp: 0, udp: 0, closed: 0 };

    beforeAll(async () => {
        ports.tcp = await freePort("tcp");
        ports.udp = await freePort("udp");
        ports.closed = await freePort("tcp");
        listener = spawn(process.execPath, ["-e", outsideListenerProgram([ports.tcp], [ports.udp])], { stdio: "ignore" });
        // Until it listens: the TCP port stops refusing.
        for (let i = 0; i < 100; i++) {
            const out = parseProbeOutput(await bash(probeScript([{ key: "up", ip: "127.0.0.1", port: ports.tcp, protocol: "TCP" }])), ["up"]);
            if (out.get("up") === "open") {
                return;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error("the outside listener program never listened");
    });

    afterAll(() => {
        listener?.kill("SIGKILL");
    });

    it("reports the listener's TCP port and its UDP echo open, ports nothing listens on timed out at the bound", async () => {
        const targets = [
            { key: "tcp-open", ip: "127.0.0.1", port: ports.tcp, protocol: "TCP" as const },
            { key: "tcp-closed", ip: "127.0.0.1", port: ports.closed, protocol: "TCP" as const },
            { key: "udp-echo", ip: "127.0.0.1", port: ports.udp, protocol: "UDP" as const },
            { key: "udp-closed", ip: "127.0.0.1", port: ports.closed, protocol: "UDP" as const },
        ];
        const outcomes = parseProbeOutput(await bash(probeScript(targets, 1)), targets.map((t) => t.key));
        expect(Object.fromEntries(outcomes)).toEqual({ "tcp-open": "open", "tcp-closed": "timed out", "udp-echo": "open", "udp-closed": "timed out" });
    });

    it("maps timeout's exit 124 to timed out, any other failure to a probe error, and refuses output that misses a target", () => {
        expect(parseProbeOutput("a 124\nb 0\nc 1\n", ["a", "b", "c"])).toEqual(new Map([["a", "timed out"], ["b", "open"], ["c", "probe error"]]));
        expect(() => parseProbeOutput("a 0\n", ["a", "b"])).toThrow(/no result for b/);
    });

    it("refuses a target that is not an IPv4 address before anything reaches a shell", () => {
        expect(() => probeScript([{ key: "k", ip: "10.0.0.1; rm -rf /", port: 1, protocol: "TCP" }])).toThrow(/not a probe target/);
    });
});

describe("probePod", () => {
    const images = { redis: "localhost/bss-test/redis:7.0.15", kafka: "localhost/bss-test/kafka:3.9.2" };

    it("passes PodSecurity restricted with listeners, an idle shell and a Kafka client container", () => {
        const specs: ProbePodSpec[] = [
            { name: "netpol-stand-in-kong", namespace: "bss", labels: { "app.kubernetes.io/name": "kong" }, listen: [8000, 8001], purpose: "p" },
            { name: "netpol-stand-in-redis-cluster-bootstrap", namespace: "bss", labels: {}, listen: [], purpose: "p" },
            { name: "netpol-app", namespace: "bss", labels: {}, listen: [8080], purpose: "p", kafkaClient: true },
        ];
        for (const spec of specs) {
            const pod = probePod(spec, images);
            expect([spec.name, restrictedViolations(pod.spec, pod.metadata.annotations)]).toEqual([spec.name, []]);
            expect(pod.spec.containers[0].name).toBe(probeContainer(spec));
        }
    });

    it("carries exactly the labels it plays, one listener per port and no named port a Service could target", () => {
        const labels = { "app.kubernetes.io/name": "akhq", "app.kubernetes.io/part-of": "bss" };
        const pod = probePod({ name: "netpol-stand-in-akhq", namespace: "bss", labels, listen: [8080, 28081], purpose: "not AKHQ" }, images);
        expect(pod.metadata.labels).toEqual(labels);
        expect(pod.spec.containers.map((c: any) => [c.name, c.command.slice(0, 3), c.ports])).toEqual([
            ["listen-8080", ["redis-server", "--port", "8080"], [{ containerPort: 8080, protocol: "TCP" }]],
            ["listen-28081", ["redis-server", "--port", "28081"], [{ containerPort: 28081, protocol: "TCP" }]],
        ]);
        expect(pod.metadata.annotations["bss-test/network-stand-in"]).toBe("not AKHQ");
    });
});

describe("the observed matrix", () => {
    it("has the shape of allowedSources and marks each cell that differs from the derived one", () => {
        const derived = [row("kafka", "zookeeper", 2181, true), row("akhq", "zookeeper", 2181, false), row("akhq", "kafka", 9092, true)];
        const hosts = [host("kafka", "kafka-0", [9092]), host("akhq", "akhq", []), host("zookeeper", "zookeeper-0", [2181])];
        const observed = observedRows(planProbes(derived, hosts), ["open", "open", "timed out"]);
        expect(openSources(observed)).toEqual({ "zookeeper:2181": ["akhq", "kafka"], "kafka:9092": [] });
        const table = matrixTable(observed, derived);
        expect(table).toMatch(/^kafka:9092\s+O\s*$/m);
        expect(table).toMatch(/^zookeeper:2181\s+X\s+\+$/m);
        expect(table).toContain("outcomes: 2 open, 1 timed out");
    });
});
