/**
 * backup.sh and restore.sh against real redis-server 7.0.15 processes on this host (no Kubernetes): a source cluster
 * of 3 masters and a replica on 127.0.2.1-4, a target cluster of a different shape (4 masters, another slot layout)
 * on 127.0.2.11-14, port 7000, bus 7001. backup.sh finds the masters from CLUSTER NODES and fetches each RDB with
 * `redis-cli --rdb` as the CronJob does; restore.sh loads each into a throwaway server and imports it.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../helpers/render";
import { eventually } from "../helpers/test-cluster";

jest.setTimeout(180_000);

const PASSWORD = "backup-test-password-0123";
const SOURCE = ["127.0.2.1", "127.0.2.2", "127.0.2.3", "127.0.2.4"];
const TARGET = ["127.0.2.11", "127.0.2.12", "127.0.2.13", "127.0.2.14"];
const KEYS = 3000;
const STAMP = /^\d{8}T\d{6}Z$/;
let dir: string;
const servers: ChildProcess[] = [];
const env = () => ({ ...process.env, REDISCLI_AUTH: PASSWORD });

function cli(host: string, ...args: string[]): string {
    return spawnSync("redis-cli", ["-h", host, "-p", "7000", ...args], { env: env(), encoding: "utf8" }).stdout.trim();
}

async function startNode(host: string): Promise<void> {
    const data = path.join(dir, host);
    fs.mkdirSync(data);
    const conf = [`bind ${host}`, "port 7000", "cluster-enabled yes", "cluster-port 7001", "cluster-node-timeout 2000", `cluster-announce-ip ${host}`, `dir ${data}`,
        'save ""', "appendonly no", `requirepass ${PASSWORD}`, `masterauth ${PASSWORD}`, "repl-diskless-sync-delay 0"].join("\n");
    fs.writeFileSync(path.join(data, "redis.conf"), conf);
    servers.push(spawn("redis-server", [path.join(data, "redis.conf")], { stdio: "ignore" }));
    await eventually(`redis-server on ${host}`, 10_000, async () => cli(host, "ping") === "PONG", 100);
}

async function formCluster(hosts: string[], replicas: number): Promise<void> {
    const created = spawnSync("redis-cli", ["--cluster", "create", ...hosts.map((h) => `${h}:7000`), "--cluster-replicas", String(replicas), "--cluster-yes"], { env: env(), encoding: "utf8" });
    expect(created.status).toBe(0);
    await eventually(`${hosts[0]}.. agree the cluster is ok`, 30_000, async () => hosts.every((h) => cli(h, "cluster", "info").includes("cluster_state:ok")), 100);
}

function clusterPipe(host: string, commands: string[]): string[] {
    const result = spawnSync("redis-cli", ["-c", "-h", host, "-p", "7000"], { env: env(), input: commands.map((c) => `${c}\n`).join(""), encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    return result.stdout.trim().split("\n");
}

function script(name: string, args: string[], extra: Record<string, string>) {
    const result = spawnSync("bash", [path.join(ROOT, "components", "redis", name), ...args], { env: { ...env(), ...extra }, encoding: "utf8", timeout: 120_000 });
    return { code: result.status, log: `${result.stdout}${result.stderr}` };
}

const backup = (retention: number) => script("backup.sh", [], {
    REDIS_HOST: SOURCE[0], REDIS_PORT: "7000", BACKUP_DIR: path.join(dir, "backups"), BACKUP_RETENTION: String(retention),
});

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-redis-backup-"));
    fs.mkdirSync(path.join(dir, "backups"));
    await Promise.all([...SOURCE, ...TARGET].map(startNode));
    // 3 masters and one replica: --cluster create takes the first three as masters, the fourth as a replica.
    const created = spawnSync("redis-cli", ["--cluster", "create", ...SOURCE.slice(0, 3).map((h) => `${h}:7000`), "--cluster-yes"], { env: env(), encoding: "utf8" });
    expect(created.status).toBe(0);
    const ids = cli(SOURCE[0], "cluster", "myid");
    spawnSync("redis-cli", ["--cluster", "add-node", `${SOURCE[3]}:7000`, `${SOURCE[0]}:7000`, "--cluster-slave", "--cluster-master-id", ids], { env: env() });
    await eventually("the source cluster is ok with its replica in sync", 30_000, async () => SOURCE.every((h) => cli(h, "cluster", "info").includes("cluster_state:ok"))
        && cli(SOURCE[3], "info", "replication").includes("master_link_status:up"), 100);
    await formCluster(TARGET, 0);
});

afterAll(() => {
    servers.forEach((s) => s.kill("SIGKILL"));
    fs.rmSync(dir, { recursive: true, force: true });
});

it(`backs up the 3 masters (not the replica) of a cluster holding ${KEYS} keys, keeps BACKUP_RETENTION runs, and restores every key into a 4-master cluster`, async () => {
    const keys = Array.from({ length: KEYS }, (_, k) => `backup:${k}`);
    clusterPipe(SOURCE[0], keys.map((k) => `SET ${k} value-${k}`));
    // A key the restore must overwrite, and one only the target has, which it must leave alone.
    clusterPipe(TARGET[0], ["SET backup:7 stale", "SET target-only kept"]);

    const started = Date.now();
    const first = backup(3);
    const backupSeconds = (Date.now() - started) / 1000;
    expect(first).toMatchObject({ code: 0, log: expect.stringContaining("complete: 3 masters") });
    const [taken] = fs.readdirSync(path.join(dir, "backups"));
    expect(taken).toMatch(STAMP);
    const manifest = fs.readFileSync(path.join(dir, "backups", taken, "manifest"), "utf8").trim().split("\n").map((l) => l.split(" "));
    const masterIds = SOURCE.slice(0, 3).map((h) => cli(h, "cluster", "myid")).sort();
    expect(manifest.map((f) => f[0]).sort()).toEqual(masterIds);
    expect(manifest.reduce((sum, f) => sum + Number(f[2]), 0)).toBe(KEYS);
    for (const [id, , , ...ranges] of manifest) {
        expect(fs.readFileSync(path.join(dir, "backups", taken, `${id}.slots`), "utf8").trim()).toBe(ranges.join(" "));
        expect(fs.statSync(path.join(dir, "backups", taken, `${id}.rdb`)).size).toBeGreaterThan(0);
    }

    // Names are whole seconds: a second run in the same second would reuse the name.
    await eventually("the clock moves to the next second", 2_000, async () => new Date().toISOString().slice(0, 19).replace(/[-:]/g, "") + "Z" !== taken, 50);
    expect(backup(1)).toMatchObject({ code: 0, log: expect.stringContaining(`removing ${taken}`) });
    const left = fs.readdirSync(path.join(dir, "backups"));
    expect(left).toHaveLength(1);
    expect(left[0] > taken).toBe(true);

    const restoreStarted = Date.now();
    const restored = script("restore.sh", [path.join(dir, "backups", left[0]), `${TARGET[0]}:7000`], { RESTORE_PORT: "7390", RESTORE_SCRATCH: dir });
    const restoreSeconds = (Date.now() - restoreStarted) / 1000;
    expect(restored).toMatchObject({ code: 0, log: expect.stringContaining(`restored ${KEYS} keys`) });
    // redis-cli -c may interleave redirect notes with the replies: every value must be among the lines.
    const values = new Set(clusterPipe(TARGET[1], keys.map((k) => `GET ${k}`)));
    expect(keys.filter((k) => !values.has(`value-${k}`))).toEqual([]);
    expect(clusterPipe(TARGET[2], ["GET target-only"])).toEqual(["kept"]);
    const targetKeys = TARGET.map((h) => Number(cli(h, "dbsize")));
    expect(targetKeys.reduce((a, b) => a + b, 0)).toBe(KEYS + 1);
    expect(targetKeys.every((n) => n > 0)).toBe(true);
    console.log(`backup of ${KEYS} keys on 3 masters: ${backupSeconds.toFixed(1)} s; restore into 4 masters: ${restoreSeconds.toFixed(1)} s; target keys per master ${targetKeys.join("/")}`);
});

it("refuses to restore an interrupted run's directory", () => {
    const incomplete = path.join(dir, "backups", "20260101T000000Z.incomplete");
    fs.mkdirSync(incomplete);
    expect(script("restore.sh", [incomplete, `${TARGET[0]}:7000`], {})).toMatchObject({ code: 1, log: expect.stringContaining("is not a complete backup") });
});
