/**
 * bootstrap.sh's join path against real redis-server 7.0.15 processes on this host (loopback addresses
 * 127.0.1.1-9, port 7000, bus 7001; no Kubernetes): each node announces a Kubernetes node name as
 * cluster-announce-hostname as start.sh does, and `getent hosts` is a stand-in that resolves each peer name to
 * itself (the peers are the addresses). What the test cluster's scale-out scenario cannot stage cheaply: a formation
 * whose Job died between the masters and the replicas, and a slotless master met by a restarting peer.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../helpers/render";
import { eventually } from "../helpers/test-cluster";

jest.setTimeout(180_000);

const PASSWORD = "resume-test-password-0123";
const KUBE_NODES = ["a", "b", "c", "a", "b", "c", "a", "b", "c"];
const address = (i: number) => `127.0.1.${i + 1}`;
let dir: string;
const servers: ChildProcess[] = [];

function cli(i: number, ...args: string[]): string {
    const result = spawnSync("redis-cli", ["-h", address(i), "-p", "7000", ...args], { env: { ...process.env, REDISCLI_AUTH: PASSWORD }, encoding: "utf8" });
    return result.stdout.trim();
}

async function startNode(i: number): Promise<void> {
    const data = path.join(dir, `node-${i}`);
    fs.mkdirSync(data);
    const conf = [`bind ${address(i)}`, "port 7000", "cluster-enabled yes", "cluster-port 7001", "cluster-node-timeout 2000",
        `cluster-announce-ip ${address(i)}`, `cluster-announce-hostname ${KUBE_NODES[i]}`, `dir ${data}`, 'save ""', "appendonly no",
        `requirepass ${PASSWORD}`, `masterauth ${PASSWORD}`, "repl-diskless-sync-delay 0"].join("\n");
    fs.writeFileSync(path.join(data, "redis.conf"), conf);
    const server = spawn("redis-server", [path.join(data, "redis.conf")], { stdio: "ignore" });
    servers.push(server);
    await eventually(`redis-server on ${address(i)}`, 10_000, async () => cli(i, "ping") === "PONG", 100);
}

function bootstrap(masters: number, replicas: number, nodes: number): { code: number; log: string } {
    const result = spawnSync("bash", [path.join(ROOT, "components", "redis", "bootstrap.sh")], {
        env: {
            ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, REDIS_PASSWORD: PASSWORD, REDIS_PORT: "7000",
            CLUSTER_PEERS: Array.from({ length: nodes }, (_, i) => address(i)).join(" "), CLUSTER_MASTERS: String(masters),
            CLUSTER_REPLICAS_PER_MASTER: String(replicas), BOOTSTRAP_TIMEOUT_SECONDS: "90",
        },
        encoding: "utf8", timeout: 150_000,
    });
    return { code: result.status ?? -1, log: `${result.stdout}${result.stderr}` };
}

interface Shard { master: number; replicas: number[]; slots: boolean }

/** Masters and their replicas by node index, from node 0's CLUSTER NODES. */
function shards(): Shard[] {
    const lines = cli(0, "cluster", "nodes").split("\n").map((l) => l.trim().split(" "));
    const index = (f: string[]) => Number(f[1].split(":")[0].split(".")[3]) - 1;
    return lines.filter((f) => f[2].includes("master")).map((m) => ({
        master: index(m),
        replicas: lines.filter((f) => f[3] === m[0]).map(index).sort((a, b) => a - b),
        slots: m.length > 8,
    })).sort((a, b) => a.master - b.master);
}

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-redis-resume-"));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin", "getent"), '#!/bin/sh\n[ "$1" = hosts ] && echo "$2 $2"\n', { mode: 0o755 });
    for (let i = 0; i < 6; i++) {
        await startNode(i);
    }
});

afterAll(() => {
    servers.forEach((s) => s.kill("SIGKILL"));
    fs.rmSync(dir, { recursive: true, force: true });
});

it("resumes a formation whose Job died after creating the masters: the masters and their keys are kept, each replica joins a master on another node", async () => {
    spawnSync("redis-cli", ["--cluster", "create", ...[0, 1, 2].map((i) => `${address(i)}:7000`), "--cluster-yes"], { env: { ...process.env, REDISCLI_AUTH: PASSWORD } });
    await eventually("the three masters agree the cluster is ok", 20_000, async () => [0, 1, 2].every((i) => cli(i, "cluster", "info").includes("cluster_state:ok")), 100);
    const keys = Array.from({ length: 200 }, (_, k) => `resume:${k}`);
    spawnSync("redis-cli", ["-c", "-h", address(0), "-p", "7000"], { env: { ...process.env, REDISCLI_AUTH: PASSWORD }, input: keys.map((k) => `SET ${k} v\n`).join("") });
    const mastersBefore = shards().map((s) => s.master);

    const { code, log } = bootstrap(3, 1, 6);
    expect({ code, log }).toEqual({ code: 0, log: expect.stringContaining("a cluster exists; joining 127.0.1.4 127.0.1.5 127.0.1.6 to it") });
    expect(log).not.toContain("never joined");
    const after = shards();
    expect(after.map((s) => s.master)).toEqual(mastersBefore);
    expect(after.every((s) => s.slots && s.replicas.length === 1 && KUBE_NODES[s.replicas[0]] !== KUBE_NODES[s.master])).toBe(true);
    const values = spawnSync("redis-cli", ["-c", "-h", address(0), "-p", "7000"], { env: { ...process.env, REDISCLI_AUTH: PASSWORD }, input: keys.map((k) => `GET ${k}\n`).join(""), encoding: "utf8" });
    expect(values.stdout.trim().split("\n").filter((v) => v === "v")).toHaveLength(200);
    expect(bootstrap(3, 1, 6).log).toContain("every node already belongs to the cluster: no node to join");
});

it("grows 1 -> 2 replicas per master around a slotless master a restarting peer already met: it becomes a replica, and no replica shares its master's node", async () => {
    for (let i = 6; i < 9; i++) {
        await startNode(i);
    }
    cli(0, "cluster", "meet", address(6), "7000", "7001");
    await eventually("127.0.1.7 met", 10_000, async () => cli(6, "cluster", "info").includes("cluster_known_nodes:7"), 100);

    const { code, log } = bootstrap(3, 2, 9);
    expect({ code, log }).toEqual({ code: 0, log: expect.stringContaining("cluster is whole: 9 nodes") });
    const after = shards();
    expect(after).toHaveLength(3);
    for (const shard of after) {
        expect(shard.replicas).toHaveLength(2);
        expect(new Set([shard.master, ...shard.replicas].map((i) => KUBE_NODES[i])).size).toBe(3);
    }
    expect(after.flatMap((s) => s.replicas)).toContain(6);
});
