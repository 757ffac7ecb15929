/**
 * The KRaft metadata quorum as the stack reads it: DescribeQuorum v1 in TypeScript (verify, against frames a real
 * Kafka 3.9.2 controller and broker answered) and in bash (components/kafka/controller-probe.sh, run for real against
 * stand-in controllers on loopback), and verify's quorum row.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { evaluateKafka, KafkaObservation, kafkaCheckNames, quorumRow } from "../../scripts/verify/kafka";
import { encodeDescribeQuorumRequest, parseDescribeQuorumResponse, QuorumView } from "../../scripts/verify/kafka-quorum";

const PROBE = path.join(__dirname, "..", "..", "components", "kafka", "controller-probe.sh");

/** What Kafka 3.9.2 answered (single controller 1000, one broker 0): from the controller, and forwarded by the broker. */
const FROM_CONTROLLER = "000000710000000100000002135f5f636c75737465725f6d6574616461746102000000000000000003e80000000400000000000001e902000003e800000000000001e9000001a23296703e000001a23296703e00020000000000000000000001e9000001a232966fef000001a232966fef00000000";
const FROM_BROKER = "000000710000000100000002135f5f636c75737465725f6d6574616461746102000000000000000003e80000000400000000000001e902000003e800000000000001e9000001a232967040000001a23296704000020000000000000000000001e9000001a232966fef000001a232966fef00000000";

describe("DescribeQuorum v1 (scripts/verify/kafka-quorum.ts)", () => {
    it("encodes the very request controller-probe.sh sends", () => {
        expect(encodeDescribeQuorumRequest(1, "probe").toString("hex"))
            .toBe("0000002c0037000100000001000570726f62650002135f5f636c75737465725f6d657461646174610200000000000000");
        expect(fs.readFileSync(PROBE, "utf8")).toContain("printf '\\x00\\x00\\x00\\x2c\\x00\\x37\\x00\\x01\\x00\\x00\\x00\\x01\\x00\\x05probe\\x00\\x02\\x13__cluster_metadata\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00'");
    });

    it.each([["controller", FROM_CONTROLLER], ["broker", FROM_BROKER]])("parses what a real %s answered", (_from, hex) => {
        const view = parseDescribeQuorumResponse(Buffer.from(hex, "hex"));
        expect(view).toMatchObject({ correlationId: 1, leaderId: 1000, leaderEpoch: 4, highWatermark: 489 });
        expect(view.voters).toEqual([expect.objectContaining({ replicaId: 1000, logEndOffset: 489 })]);
        expect(view.voters[0].lastCaughtUpTimestamp).toBeGreaterThan(Date.UTC(2026, 0, 1));
        expect(view.observers.map((o) => o.replicaId)).toEqual([0]);
    });

    it("turns a non-leader's partition error into a message naming it", () => {
        expect(() => parseDescribeQuorumResponse(quorumFrame({ leaderId: -1, voters: [], partitionError: 6 }))).toThrow(/error 6 \(NOT_LEADER_OR_FOLLOWER\) for __cluster_metadata/);
    });
});

/** A DescribeQuorum v1 response frame as a controller writes it. */
function quorumFrame(options: { leaderId: number; voters: [number, number][]; partitionError?: number }): Buffer {
    const int = (bytes: number, value: number) => {
        const b = Buffer.alloc(bytes);
        if (bytes === 8) {
            b.writeBigInt64BE(BigInt(value));
        } else if (bytes === 4) {
            b.writeInt32BE(value);
        } else {
            b.writeInt16BE(value);
        }
        return b;
    };
    const topic = Buffer.from("__cluster_metadata");
    const body = Buffer.concat([
        int(4, 1), Buffer.from([0]), int(2, 0), Buffer.from([2, topic.length + 1]), topic, Buffer.from([2]), int(4, 0), int(2, options.partitionError ?? 0),
        int(4, options.leaderId), int(4, 7), int(8, 100), Buffer.from([options.voters.length + 1]),
        ...options.voters.flatMap(([id, caughtUp]) => [int(4, id), int(8, 100), int(8, caughtUp), int(8, caughtUp), Buffer.from([0])]),
        Buffer.from([1, 0, 0, 0]),
    ]);
    return Buffer.concat([int(4, body.length), body]);
}

describe("components/kafka/controller-probe.sh", () => {
    let dirs: string[] = [];
    let servers: net.Server[] = [];
    afterEach(async () => {
        dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
        dirs = [];
        servers = [];
    });

    /** A stand-in controller answering every request with `frame`; records what it was sent. */
    async function controller(frame: Buffer): Promise<{ port: number; received: Buffer[] }> {
        const received: Buffer[] = [];
        const server = net.createServer((socket) => {
            // The probe closes its end as soon as it has read the answer.
            socket.on("error", () => undefined);
            socket.on("data", (data) => {
                received.push(data);
                socket.write(frame);
            });
        });
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return { port: (server.address() as net.AddressInfo).port, received };
    }

    /** Runs the probe as node `nodeId` with `voters` (id → port), started at `startedAt` (epoch seconds). */
    async function probe(nodeId: number, voters: Record<number, number>, startedAt: number) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-quorum-"));
        dirs.push(dir);
        const list = Object.entries(voters).map(([id, port]) => `${id}@127.0.0.1:${port}`).join(",");
        fs.writeFileSync(path.join(dir, "server.properties"), `process.roles=controller\ncontroller.quorum.voters=${list}\nnode.id=${nodeId}\n`);
        fs.writeFileSync(path.join(dir, "started-at"), `${startedAt}\n`);
        const child = spawn("bash", [PROBE], { env: { PATH: "/usr/bin:/bin", KAFKA_RUNTIME_DIR: dir } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
        return { code, stdout, stderr };
    }

    const startedAt = 1_800_000_000;
    const notLeader = quorumFrame({ leaderId: -1, voters: [], partitionError: 6 });

    it("asks its own controller first, then the leader, and passes once the leader saw it caught up since its start", async () => {
        const own = await controller(notLeader);
        const leader = await controller(quorumFrame({ leaderId: 1000, voters: [[1000, startedAt * 1000 + 9000], [1001, startedAt * 1000 + 5000]] }));
        const r = await probe(1001, { 1000: leader.port, 1001: own.port }, startedAt);
        expect(r.stdout).toBe("probe: controller 1001 is a voter of the quorum led by 1000 and caught up\n");
        expect(r.code).toBe(0);
        expect(own.received.map((b) => b.toString("hex"))).toEqual([encodeDescribeQuorumRequest(1, "probe").toString("hex")]);
        expect(leader.received).toHaveLength(1);
    });

    it("fails while the leader last saw it caught up before this start (a restarted controller not fetched again yet)", async () => {
        const leader = await controller(quorumFrame({ leaderId: 1000, voters: [[1000, startedAt * 1000 + 9000], [1001, startedAt * 1000 - 1]] }));
        const r = await probe(1001, { 1000: leader.port, 1001: leader.port + 0 }, startedAt);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/controller 1001 has not caught up with leader 1000's log since it started/);
    });

    it("fails for a node the leader does not count among the voters", async () => {
        const leader = await controller(quorumFrame({ leaderId: 1000, voters: [[1000, startedAt * 1000 + 9000]] }));
        const r = await probe(1001, { 1000: leader.port }, startedAt);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/controller 1001 is not a voter of the quorum led by 1000/);
    });

    it("fails when no voter answers as the leader (no quorum yet)", async () => {
        const a = await controller(notLeader);
        const b = await controller(notLeader);
        const r = await probe(1001, { 1000: a.port, 1001: b.port }, startedAt);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/no voter of 1000@127\.0\.0\.1:\d+,1001@127\.0\.0\.1:\d+ answers as the quorum's leader/);
    });
});

describe("verify's quorum row (scripts/verify/kafka.ts)", () => {
    const now = 1_800_000_000_000;
    const view = (voters: [number, number][], leaderId = 1000): QuorumView => ({
        leaderId, leaderEpoch: 3, highWatermark: 500,
        voters: voters.map(([replicaId, caught]) => ({ replicaId, logEndOffset: 500, lastFetchTimestamp: caught, lastCaughtUpTimestamp: caught })),
        observers: [0, 1, 2].map((replicaId) => ({ replicaId, logEndOffset: 500, lastFetchTimestamp: now, lastCaughtUpTimestamp: now })),
    });

    it("is ok with a leader among exactly the declared voters, each caught up", () => {
        expect(quorumRow(3, view([[1000, now], [1001, now - 200], [1002, now - 1000]]))).toEqual({
            area: "kafka", check: "KRaft metadata quorum", status: "ok",
            detail: "leader 1000 (epoch 3), voters 1000, 1001, 1002, observers 0, 1, 2; every voter caught up",
        });
    });

    it("fails on a lagging voter, a missing voter and no leader, saying which", () => {
        expect(quorumRow(3, view([[1000, now], [1001, now - 45_000], [1002, -1]])).detail)
            .toMatch(/^lagging voter 1001 \(caught up 45 s before the leader, log end 500 of 500\), 1002 \(never caught up, log end 500 of 500\)/);
        expect(quorumRow(3, view([[1000, now], [1001, now]])).detail).toMatch(/^voters 1000, 1001, declared 1000, 1001, 1002/);
        expect(quorumRow(1, view([[1000, now]], -1))).toMatchObject({ status: "fail", detail: expect.stringMatching(/^no leader elected/) });
        expect(quorumRow(1, { error: "no answer", unreachable: true })).toMatchObject({ status: "unreachable", detail: "not described: no answer" });
    });

    it("replaces 'one controller' on a KRaft stack, where brokers name a random broker as controller", () => {
        const observed: KafkaObservation = {
            views: [0, 1, 2].map((id) => ({ address: `localhost:${9092 + id}`, brokers: [0, 1, 2].map((nodeId) => ({ nodeId, host: "localhost", port: 9092 + nodeId })), controllerId: id })),
            topics: [],
            quorum: view([[1000, now]]),
        };
        const rows = evaluateKafka({ brokers: 3, topics: [], metadata: "kraft", controllers: 1 }, observed);
        expect(rows.map((r) => r.check)).toEqual(kafkaCheckNames([], "kraft"));
        expect(rows.find((r) => r.check === "KRaft metadata quorum")?.status).toBe("ok");
        expect(rows.find((r) => r.check === "one controller")).toBeUndefined();
        // The same answers fail the ZooKeeper stack's check: three brokers, three different controllers.
        expect(evaluateKafka({ brokers: 3, topics: [] }, observed).find((r) => r.check === "one controller")?.status).toBe("fail");
    });
});
