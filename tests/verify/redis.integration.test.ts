/**
 * `npm run verify` against real Redis: the rendered dev and prod Redis pods run by the pod runner
 * (tests/verify/redis-sandbox.ts; Debian's redis-server 7.0.15 standing in for the image). Dev is reached the
 * way verify plans it from Pulumi.dev.yaml (kind's 127.0.0.1:7000 → nodePort 30700, emulated); prod, which has
 * no host access, through --redis-address, with a kubectl stand-in telling which node each pod runs on.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import { parseArgs, verifyStack } from "../../scripts/verify/cli";
import { CheckResult, VerifyReport } from "../../scripts/verify/report";
import { parseClusterNodes } from "../../scripts/verify/redis";
import { NAMES } from "../../components/redis/manifests";
import { RedisSandbox, startRedisSandbox } from "./redis-sandbox";
import { runVerifyCli } from "./run-cli";
import { writeKubectlStandIn } from "./kubectl-stand-in";

jest.setTimeout(240_000);

const PASSWORD = 'verify-"redis"\\pa$$word-0123';

const rowsOf = (report: VerifyReport) => Object.fromEntries(report.checks.filter((c) => c.area === "redis").map((c) => [c.check, c])) as Record<string, CheckResult>;

describe("verify on real Redis, dev shape (one master, reached as kind exposes it)", () => {
    let redis: RedisSandbox;
    let dir: string;
    let outputsFile: string;

    beforeAll(async () => {
        redis = await startRedisSandbox("dev", PASSWORD);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-verify-redis-"));
        outputsFile = path.join(dir, "outputs.json");
        fs.writeFileSync(outputsFile, JSON.stringify({ redisPassword: PASSWORD }));
        await redis.startNodes();
        await redis.sandbox.exposeNodePort(NAMES.externalService, 7000, 7000, "127.0.0.1");
    });

    afterAll(async () => {
        await redis?.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("fails the state, slot and shape checks of a node that was never formed", async () => {
        // Not ready before the bootstrap, so the NodePort has no endpoint: ask the pod itself.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const ip = redis.sandbox.ip(redis.pods[0]);
        const report = await verifyStack(parseArgs(["--stack", "dev", "--only", "redis", "--outputs-file", outputsFile, "--redis-address", `${ip}:7000`]));
        const rows = rowsOf(report);
        expect(rows["cluster state"]).toMatchObject({ status: "fail", detail: `cluster_state:fail (asked ${ip}:7000)` });
        expect(rows["slots covered"]).toMatchObject({ status: "fail", detail: "0 of 16384 assigned, 0 ok, 0 pfail, 0 fail" });
        expect(rows["masters and replicas"]).toMatchObject({ status: "fail", detail: expect.stringContaining("0 masters with slots, declared 1") });
        expect(report.ok).toBe(false);
    });

    it("passes once formed, on the address verify plans from Pulumi.dev.yaml, with the password from the stack outputs, and prints the table", async () => {
        await redis.bootstrap();
        await redis.waitAllReady(30_000);
        const table = await runVerifyCli(["--stack", "dev", "--only", "redis", "--outputs-file", outputsFile]);
        console.log(`verify --stack dev --only redis on real Redis:\n${table.stdout}`);
        expect({ code: table.code, stderr: table.stderr }).toEqual({ code: 0, stderr: "" });
        expect(table.stdout).not.toContain(PASSWORD);
        const json = await runVerifyCli(["--stack", "dev", "--only", "redis", "--outputs-file", outputsFile, "--json"]);
        const rows = rowsOf(JSON.parse(json.stdout));
        expect(Object.values(rows).map((r) => [r.check, r.status])).toEqual([
            ["address", "ok"], ["cluster state", "ok"], ["slots covered", "ok"], ["masters and replicas", "ok"], ["replica placement", "ok"],
        ]);
        expect(rows["address"].detail).toBe("127.0.0.1:7000 (kind maps 127.0.0.1:7000 to nodePort 30700 (bss:redis.nodePort))");
    });

    it("fails, not hangs, on a wrong password", async () => {
        const report = await verifyStack(parseArgs(["--stack", "dev", "--only", "redis", "--redis-password", "not-the-password-0123456789"]));
        expect(rowsOf(report)["cluster state"]).toMatchObject({ status: "fail", detail: expect.stringContaining("password refused") });
    });
});

describe("verify on real Redis, prod shape (3 masters × 1 replica)", () => {
    let redis: RedisSandbox;
    /** Redis node id → pod, from CLUSTER NODES once formed. */
    let topology: { pod: string; ip: string; id: string; masterId: string }[];
    const standIns: { remove(): void }[] = [];

    beforeAll(async () => {
        redis = await startRedisSandbox("prod", PASSWORD);
        await redis.startNodes();
        await redis.bootstrap();
        await redis.waitAllReady();
        const client = new Redis({ host: redis.sandbox.ip(redis.pods[0]), port: 7000, password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0 });
        await client.connect();
        const nodes = parseClusterNodes(await client.cluster("NODES") as string);
        client.disconnect();
        topology = redis.pods.map((pod) => {
            const ip = redis.sandbox.ip(pod);
            const node = nodes.find((n) => n.address === `${ip}:7000`)!;
            return { pod, ip, id: node.id, masterId: node.masterId };
        });
    });

    afterAll(async () => {
        standIns.forEach((s) => s.remove());
        await redis?.destroy();
    });

    /** A kubectl stand-in placing each pod on a node: `nodeOf` gets each pod's entry in the topology. */
    function kubectlPlacing(nodeOf: (entry: (typeof topology)[number]) => string): string {
        const standIn = writeKubectlStandIn({ pods: topology.map((t) => ({ name: t.pod, ip: t.ip, node: nodeOf(t) })) });
        standIns.push(standIn);
        return standIn.command;
    }

    const masters = () => topology.filter((t) => t.masterId === "-");
    /** Master i and its replicas on node-i: the shape the required anti-affinity would never produce. */
    const shardNode = (t: (typeof topology)[number]) => `node-${masters().findIndex((m) => m.id === (t.masterId === "-" ? t.id : t.masterId))}`;

    const verifyProd = (kubectl: string) => verifyStack(parseArgs([
        "--stack", "prod", "--only", "redis", "--redis-address", `${topology[0].ip}:7000`, "--redis-password", PASSWORD, "--kubectl", kubectl,
    ]));

    it("passes with every replica on another node than its master", async () => {
        // Replicas one node further along: master i on node-i, its replica on node-(i+1).
        const spread = kubectlPlacing((t) => (t.masterId === "-" ? shardNode(t) : `node-${(Number(shardNode(t).slice(5)) + 1) % 3}`));
        const report = await verifyProd(spread);
        const rows = rowsOf(report);
        expect(Object.values(rows).filter((r) => r.status !== "ok")).toEqual([]);
        expect(rows["masters and replicas"].detail).toBe("3 masters, 1 replica each (6 nodes), as declared");
        expect(rows["replica placement"].detail).toBe("every master on another Kubernetes node than its replicas (6 pods on 3 nodes)");
    });

    it("fails when a master and its own replica share a node, naming both pods", async () => {
        const report = await verifyProd(kubectlPlacing(shardNode));
        const row = rowsOf(report)["replica placement"];
        expect(row.status).toBe("fail");
        for (const master of masters()) {
            const replica = topology.find((t) => t.masterId === master.id)!;
            expect(row.detail).toContain(`master ${master.pod} and its replica ${replica.pod} both on node ${shardNode(master)}`);
        }
        expect(report.ok).toBe(false);
    });

    it("skips placement, saying why, when kubectl is not there", async () => {
        const row = rowsOf(await verifyProd("/nonexistent/kubectl"))["replica placement"];
        expect(row).toMatchObject({ status: "skipped", detail: "placement not checked: kubectl get pods failed (/nonexistent/kubectl not found)" });
    });

    it("fails the shape once a replica is lost (SIGKILL), while the cluster itself stays ok", async () => {
        const replica = topology.find((t) => t.masterId !== "-")!;
        const spread = kubectlPlacing((t) => (t.masterId === "-" ? shardNode(t) : `node-${(Number(shardNode(t).slice(5)) + 1) % 3}`));
        await redis.sandbox.stopPod(replica.pod, "SIGKILL");
        // The cluster flags the node fail after cluster-node-timeout (5 s in prod).
        const deadline = Date.now() + 30_000;
        let rows: Record<string, CheckResult>;
        do {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            rows = rowsOf(await verifyProd(spread));
        } while (rows["masters and replicas"].status === "ok" && Date.now() < deadline);
        const master = topology.find((t) => t.id === replica.masterId)!;
        expect(rows["masters and replicas"]).toMatchObject({ status: "fail", detail: expect.stringContaining(`master ${master.ip}:7000 has 0 working replicas, declared 1`) });
        expect(rows["cluster state"].status).toBe("ok");
        expect(rows["slots covered"].status).toBe("ok");
    });
});
