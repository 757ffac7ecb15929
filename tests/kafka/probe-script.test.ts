/**
 * components/kafka/probe.sh against a stand-in broker: a TCP server on loopback that checks the probe's request is a
 * Metadata v1 request for all topics and answers with the metadata each case describes, encoded as Kafka does.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { scratchDir } from "./script-runner";

const PROBE = path.join(__dirname, "..", "..", "components", "kafka", "probe.sh");

interface PartitionMeta {
    partition: number;
    leader: number;
    replicas: number[];
    isr: number[];
}
interface Metadata {
    brokers: number[];
    controller: number;
    topics: { name: string; partitions: PartitionMeta[] }[];
}

function int16(n: number): Buffer {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    return b;
}
function int32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
}
const str = (s: string) => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
const ints = (list: number[]) => Buffer.concat([int32(list.length), ...list.map(int32)]);

/** A Metadata v1 response body, field for field as the protocol defines it. */
function metadataV1(correlation: number, m: Metadata): Buffer {
    const body = Buffer.concat([
        int32(correlation),
        int32(m.brokers.length),
        ...m.brokers.flatMap((id) => [int32(id), str(`kafka-${id}.kafka-headless`), int32(9092), id % 2 === 0 ? str(`zone-${id}`) : int16(-1)]),
        int32(m.controller),
        int32(m.topics.length),
        ...m.topics.flatMap((t) => [
            int16(0), str(t.name), Buffer.from([t.name.startsWith("__") ? 1 : 0]), int32(t.partitions.length),
            ...t.partitions.flatMap((p) => [int16(0), int32(p.partition), int32(p.leader), ints(p.replicas), ints(p.isr)]),
        ]),
    ]);
    return Buffer.concat([int32(body.length), body]);
}

interface ProbeRun {
    code: number | null;
    stdout: string;
    stderr: string;
    /** The request the stand-in broker received. */
    request: Buffer;
    /** What the probe wrote to its report file (the broker's log in a pod). */
    report: string;
}

let dirs: string[] = [];
afterEach(() => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    dirs = [];
});

/** Runs the probe as pod `kafka-<id>` against a stand-in serving `metadata`; `startedSecondsAgo` sets start.sh's stamp. */
async function probe(id: number, metadata: Metadata, options: { startedSecondsAgo?: number; catchUpSeconds?: number; reported?: boolean } = {}): Promise<ProbeRun> {
    const dir = scratchDir();
    dirs.push(dir);
    let request = Buffer.alloc(0);
    const server = net.createServer((socket) => {
        socket.on("data", (chunk) => {
            request = Buffer.concat([request, chunk]);
            if (request.length >= 4 && request.length >= 4 + request.readInt32BE(0)) {
                socket.end(metadataV1(request.readInt32BE(8), metadata));
            }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    fs.mkdirSync(path.join(dir, "config"));
    fs.mkdirSync(path.join(dir, "runtime"));
    fs.writeFileSync(path.join(dir, "config", "server.properties"), `listeners=INTERNAL://:${port},EXTERNAL://:9094\n`);
    fs.writeFileSync(path.join(dir, "runtime", "started-at"), `${Math.floor(Date.now() / 1000) - (options.startedSecondsAgo ?? 5)}\n`);
    if (options.reported) {
        fs.writeFileSync(path.join(dir, "runtime", "catch-up-reported"), "");
    }
    const report = path.join(dir, "broker.log");
    try {
        return await new Promise<ProbeRun>((resolve, reject) => {
            const child = spawn("bash", [PROBE], {
                env: {
                    PATH: "/usr/bin:/bin",
                    KAFKA_CONFIG_DIR: path.join(dir, "config"),
                    KAFKA_RUNTIME_DIR: path.join(dir, "runtime"),
                    POD_NAME: `kafka-${id}`,
                    KAFKA_CATCH_UP_SECONDS: String(options.catchUpSeconds ?? 300),
                    KAFKA_PROBE_REPORT_TO: report,
                },
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
            child.on("error", reject);
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ code, stdout, stderr, request, report: fs.existsSync(report) ? fs.readFileSync(report, "utf8") : "" });
            });
        });
    } finally {
        server.close();
    }
}

const threeBrokers = (partitions: PartitionMeta[], extra: Metadata["topics"] = []): Metadata => ({
    brokers: [0, 1, 2],
    controller: 1,
    topics: [{ name: "bss.events", partitions }, ...extra],
});
const inSync = (partition: number, leader: number): PartitionMeta => ({ partition, leader, replicas: [0, 1, 2], isr: [0, 1, 2] });

describe("components/kafka/probe.sh", () => {
    it("asks for the metadata of all topics (Metadata v1, topics null)", async () => {
        const run = await probe(0, threeBrokers([inSync(0, 0)]));
        expect(run.request.toString("hex")).toBe(Buffer.concat([
            int32(19), int16(3), int16(1), int32(1), str("probe"), int32(-1),
        ]).toString("hex"));
    });

    it("passes for a registered broker in the ISR of every partition it hosts, and counts them", async () => {
        const run = await probe(2, threeBrokers([inSync(0, 0), inSync(1, 1), inSync(2, 2)], [{ name: "__consumer_offsets", partitions: [inSync(0, 1)] }]));
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        expect(run.stdout).toBe("probe: broker 2 registered, 3 broker(s) known, controller 1, in the ISR of all its 4 partition(s)\n");
    });

    it("holds a restarted broker back while it is out of the ISR of a partition that has a leader", async () => {
        const run = await probe(2, threeBrokers([inSync(0, 0), { partition: 1, leader: 0, replicas: [0, 1, 2], isr: [0, 1] }]), { startedSecondsAgo: 40 });
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(/^probe: broker 2 is not yet in the ISR of 1 of its 2 partition\(s\) \(4\d s of 300 s\): bss\.events-1\n$/);
    });

    it("ignores partitions it does not replicate, in sync or not", async () => {
        const run = await probe(2, {
            brokers: [0, 1, 2, 3],
            controller: 0,
            topics: [{ name: "t", partitions: [{ partition: 0, leader: 0, replicas: [0, 1, 3], isr: [0] }, { partition: 1, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3] }] }],
        });
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/in the ISR of all its 1 partition\(s\)/);
    });

    it("does not wait for a partition without a leader (nothing to catch up from) and says so once on the broker's log", async () => {
        const meta = threeBrokers([inSync(0, 0), { partition: 1, leader: -1, replicas: [1, 2], isr: [1] }]);
        const run = await probe(2, meta);
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/not waiting for 1 partition\(s\) without a leader: bss\.events-1$/m);
        expect(run.report).toMatch(/^probe: broker 2 Ready; not waiting for 1 partition\(s\) without a leader: bss\.events-1\n$/);
        expect((await probe(2, meta, { reported: true })).report).toBe("");
    });

    it("passes once the catch-up bound has passed, and reports what is still behind on the broker's log", async () => {
        const lagging = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((p) => ({ partition: p, leader: 0, replicas: [0, 1, 2], isr: [0, 1] }));
        const run = await probe(2, threeBrokers(lagging), { startedSecondsAgo: 61, catchUpSeconds: 60 });
        expect(run.code).toBe(0);
        const expected = "probe: broker 2 Ready after the 60 s catch-up bound while still out of the ISR of 12 of its 12 partition(s): "
            + "bss.events-0 bss.events-1 bss.events-2 bss.events-3 bss.events-4 bss.events-5 bss.events-6 bss.events-7 bss.events-8 bss.events-9 and 2 more\n";
        expect(run.stdout).toBe(expected);
        expect(run.report).toBe(expected);
        expect((await probe(2, threeBrokers(lagging), { startedSecondsAgo: 59, catchUpSeconds: 60 })).code).not.toBe(0);
    });

    it("fails for a broker the metadata does not list yet, whatever its partitions", async () => {
        const run = await probe(3, threeBrokers([inSync(0, 0)]));
        expect(run.code).not.toBe(0);
        expect(run.stderr).toBe("probe: broker 3 is not in its own metadata yet (3 broker(s) known)\n");
    });

    it("fails while no controller is elected", async () => {
        const run = await probe(0, { ...threeBrokers([inSync(0, 0)]), controller: -1 });
        expect(run.code).not.toBe(0);
        expect(run.stderr).toBe("probe: no controller elected\n");
    });

    it("reads a response of many topics and partitions to its end", async () => {
        const topics = [...Array(40).keys()].map((t) => ({ name: `topic.number.${t}`, partitions: [...Array(12).keys()].map((p) => inSync(p, p % 3)) }));
        topics[39].partitions[11] = { partition: 11, leader: 0, replicas: [0, 1, 2], isr: [0, 2] };
        const run = await probe(1, { brokers: [0, 1, 2], controller: 0, topics });
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(/not yet in the ISR of 1 of its 480 partition\(s\) .*: topic\.number\.39-11\n$/);
    });
});
