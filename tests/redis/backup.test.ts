/**
 * Redis backups without a cluster: `bss:redis.backup` validation, the rendered CronJob, PVC and scripts ConfigMap,
 * and backup.sh's retention and failure paths run by bash against a stand-in redis-cli on a temp directory.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadSettings } from "../../settings";
import { cronProblem, RedisSettings } from "../../settings/redis";
import { backupObjects, BACKUP_DEADLINE_SECONDS } from "../../components/redis/backup";
import { shippedBackupScripts } from "../../components/redis";
import { inlineConfig, renderIsolated, ROOT, stackFile } from "../helpers/render";

function redisSettings(redis: Record<string, unknown> = {}, environment = "prod"): RedisSettings {
    return loadSettings({ "bss:environment": environment, "bss:redis": JSON.stringify(redis) }, "test").redis;
}

function problems(redis: Record<string, unknown>, environment = "prod"): string[] {
    try {
        redisSettings(redis, environment);
        return [];
    } catch (error) {
        return (error as { problems: string[] }).problems;
    }
}

describe("bss:redis.backup", () => {
    it("defaults to a daily 02:00 UTC backup outside dev, 7 kept, 10Gi, the default class; off in dev", () => {
        expect(redisSettings().backup).toEqual({ schedule: "0 2 * * *", retention: 7, storageSize: "10Gi", storageClass: undefined });
        expect(redisSettings({}, "dev").backup.schedule).toBeUndefined();
    });

    it("takes a schedule in dev, and \"off\" anywhere", () => {
        expect(redisSettings({ backup: { schedule: "*/30 * * * *" } }, "dev").backup.schedule).toBe("*/30 * * * *");
        expect(redisSettings({ backup: { schedule: "off" } }).backup.schedule).toBeUndefined();
        expect(redisSettings({ backup: { retention: 2, storageSize: "1Gi", storageClass: "fast" } }).backup)
            .toEqual({ schedule: "0 2 * * *", retention: 2, storageSize: "1Gi", storageClass: "fast" });
    });

    it("names the key and the value of each problem, all at once", () => {
        expect(problems({ backup: { schedule: "0 2 * *", retention: 0, storageSize: "lots", colour: "red" } })).toEqual([
            expect.stringMatching(/^bss:redis\.backup\.retention .*got 0$/),
            expect.stringMatching(/^bss:redis\.backup\.storageSize .*got "lots"$/),
            expect.stringMatching(/^bss:redis\.backup\.colour is not a known setting .*got "red"$/),
            expect.stringMatching(/^bss:redis\.backup\.schedule must be "off" or a cron schedule: a cron schedule has 5 fields .*, got "0 2 \* \*"$/),
        ]);
    });

    it.each([
        ["0 2 * * *", undefined],
        ["*/15 0-6,22,23 1-31 */2 0-7", undefined],
        ["60 2 * * *", /minute field "60"/],
        ["0 24 * * *", /hour field "24"/],
        ["0 2 0 * *", /day of month field "0"/],
        ["0 2 * 13 *", /month field "13"/],
        ["0 2 * * 8", /day of week field "8"/],
        ["0 5-2 * * *", /hour field "5-2"/],
        ["*/0 * * * *", /minute field "\*\/0"/],
        ["@daily", /5 fields/],
        ["0 2 * * MON", /day of week field "MON"/],
    ])("cron %s", (expression, problem) => {
        if (problem === undefined) {
            expect(cronProblem(expression)).toBeUndefined();
        } else {
            expect(cronProblem(expression)).toMatch(problem);
        }
    });
});

describe("backup objects", () => {
    const spec = (settings: RedisSettings) => ({ namespace: "bss", settings, scripts: shippedBackupScripts() });

    it("are none when the schedule is off", () => {
        expect(backupObjects(spec(redisSettings({}, "dev")))).toBeUndefined();
    });

    it("run backup.sh on the schedule, one run at a time, bounded, with history limits, into the PVC redis-backups", () => {
        const objects = backupObjects(spec(redisSettings({ backup: { retention: 3, storageSize: "5Gi", storageClass: "slow" } })))!;
        const cron = objects.cronJob.spec as any;
        expect(cron).toMatchObject({
            schedule: "0 2 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid",
            successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3,
            jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: BACKUP_DEADLINE_SECONDS, template: { spec: { restartPolicy: "Never" } } } },
        });
        const container = cron.jobTemplate.spec.template.spec.containers[0];
        expect(container.command).toEqual(["/opt/redis-backup/backup.sh"]);
        expect(container.env).toEqual(expect.arrayContaining([
            { name: "BACKUP_RETENTION", value: "3" }, { name: "BACKUP_DIR", value: "/backups" }, { name: "REDIS_HOST", value: "redis-cluster" },
            { name: "REDIS_PORT", value: "7000" },
        ]));
        expect(cron.jobTemplate.spec.template.spec.volumes).toEqual(expect.arrayContaining([{ name: "backups", persistentVolumeClaim: { claimName: "redis-backups" } }]));
        expect((objects.volumeClaim.metadata as { name: string }).name).toBe("redis-backups");
        expect(objects.volumeClaim.spec).toEqual({ accessModes: ["ReadWriteOnce"], storageClassName: "slow", resources: { requests: { storage: "5Gi" } } });
        expect(Object.keys(objects.scripts.data!).sort()).toEqual(["backup.sh", "restore.sh"]);
    });

    it("run hardened: non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp, read-only root, requests and limits", () => {
        const pod = (backupObjects(spec(redisSettings()))!.cronJob.spec as any).jobTemplate.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.automountServiceAccountToken).toBe(false);
        for (const container of pod.containers) {
            expect(container.securityContext).toEqual({
                allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, readOnlyRootFilesystem: true, seccompProfile: { type: "RuntimeDefault" },
            });
            expect(Object.keys(container.resources.requests).sort()).toEqual(["cpu", "memory"]);
            expect(container.resources.limits).toEqual({ cpu: "500m", memory: "256Mi" });
        }
    });

    it("take the password from the Secret as REDISCLI_AUTH only: not in argv, not in the ConfigMap, not in the pod template in the clear", async () => {
        const password = "backup-password-in-no-configmap-0123";
        const prod = stackFile("prod");
        const rendered = await renderIsolated("prod", inlineConfig({ ...prod.values, "bss:redisPassword": password }, [...prod.secretKeys, "bss:redisPassword"]));
        const backup = rendered.resources.filter((r) => r.type.startsWith("kubernetes:") && /^redis-backup/.test(r.inputs.metadata?.name ?? ""));
        expect(backup.map((r) => `${r.inputs.kind}/${r.inputs.metadata.name}`).sort())
            .toEqual(["ConfigMap/redis-backup-scripts", "CronJob/redis-backup", "NetworkPolicy/redis-backup-egress", "PersistentVolumeClaim/redis-backups"]);
        expect(JSON.stringify(backup)).not.toContain(password);
        expect(JSON.stringify(rendered.resources.find((r) => r.inputs?.kind === "Secret" && r.inputs.metadata?.name === "redis-cluster-auth")!.inputs)).toContain(password);
        const container = backup.find((r) => r.inputs.kind === "CronJob")!.inputs.spec.jobTemplate.spec.template.spec.containers[0];
        expect(container.env.find((e: any) => e.name === "REDISCLI_AUTH")).toEqual({ name: "REDISCLI_AUTH", valueFrom: { secretKeyRef: { name: "redis-cluster-auth", key: "password" } } });
        expect(container.args).toBeUndefined();
        const dev = await renderIsolated("dev", stackFile("dev"));
        // The policy stays: it only names pods, and dev has none of that name.
        expect(dev.resources.filter((r) => r.type.startsWith("kubernetes:") && /^redis-backup/.test(r.inputs.metadata?.name ?? "")).map((r) => r.inputs.kind))
            .toEqual(["NetworkPolicy"]);
    });
});

describe("backup.sh", () => {
    let dir: string;
    let backups: string;
    const STAMPS = ["20260101T020000Z", "20260102T020000Z", "20260103T020000Z", "20260104T020000Z", "20260105T020000Z"];

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-redis-backup-"));
        backups = path.join(dir, "backups");
        fs.mkdirSync(backups);
        for (const stamp of STAMPS) {
            fs.mkdirSync(path.join(backups, stamp));
            fs.writeFileSync(path.join(backups, stamp, "manifest"), "x\n");
        }
        fs.mkdirSync(path.join(dir, "bin"));
    });

    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** A redis-cli that answers CLUSTER NODES with `nodes`, DBSIZE with 5, and --rdb by writing a file, except for `failing`. */
    function standInCli(nodes: string, failing = ""): void {
        fs.writeFileSync(path.join(dir, "nodes"), `${nodes}\n`);
        fs.writeFileSync(path.join(dir, "bin", "redis-cli"), [
            "#!/bin/bash",
            'host=$2; shift 4',
            `case "$1" in`,
            `  cluster) cat ${JSON.stringify(path.join(dir, "nodes"))} ;;`,
            "  dbsize) echo 5 ;;",
            `  --rdb) [ "$host" = "${failing}" ] && { echo 'connection refused' >&2; exit 1; }; echo rdb >"$2" ;;`,
            "esac",
        ].join("\n"), { mode: 0o755 });
    }

    function run(retention: number, ...args: string[]) {
        const result = spawnSync("bash", [path.join(ROOT, "components", "redis", "backup.sh"), ...args], {
            env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, BACKUP_DIR: backups, BACKUP_RETENTION: String(retention), REDIS_HOST: "redis-cluster", REDIS_PORT: "7000", REDISCLI_AUTH: "p" },
            encoding: "utf8",
        });
        return { code: result.status, log: result.stderr, left: fs.readdirSync(backups).sort() };
    }

    const NODES = [
        "aaa 10.0.0.1:7000@7001,node-a myself,master - 0 0 1 connected 0-5460",
        "bbb 10.0.0.2:7000@7001,node-b master - 0 0 2 connected 5461-10922 [5461->-ccc]",
        "ccc 10.0.0.3:7000@7001,node-c master - 0 0 3 connected 10923-16383",
        "ddd 10.0.0.4:7000@7001,node-b slave aaa 0 0 1 connected",
        "eee 10.0.0.5:7000@7001,node-c master - 0 0 0 connected",
    ].join("\n");

    it("prune keeps the newest BACKUP_RETENTION complete directories and leaves anything else alone", () => {
        fs.mkdirSync(path.join(backups, "20251231T020000Z.incomplete"));
        fs.writeFileSync(path.join(backups, "README"), "");
        expect(run(2, "prune")).toMatchObject({ code: 0, left: ["20251231T020000Z.incomplete", "20260104T020000Z", "20260105T020000Z", "README"] });
        expect(run(5, "prune").left).toHaveLength(4);
    });

    it("writes every master's RDB, slots and manifest line (replicas and slotless masters skipped), then prunes to the retention", () => {
        standInCli(NODES);
        const { code, log, left } = run(3);
        expect({ code, log }).toMatchObject({ code: 0, log: expect.stringMatching(/backup \d{8}T\d{6}Z complete: 3 masters/) });
        expect(left).toHaveLength(3);
        expect(left.slice(0, 2)).toEqual(["20260104T020000Z", "20260105T020000Z"]);
        const latest = path.join(backups, left[2]);
        expect(fs.readdirSync(latest).sort()).toEqual(["aaa.rdb", "aaa.slots", "bbb.rdb", "bbb.slots", "ccc.rdb", "ccc.slots", "manifest"]);
        expect(fs.readFileSync(path.join(latest, "manifest"), "utf8")).toBe([
            "aaa 10.0.0.1:7000 5 0-5460", "bbb 10.0.0.2:7000 5 5461-10922", "ccc 10.0.0.3:7000 5 10923-16383", "",
        ].join("\n"));
        expect(fs.readFileSync(path.join(latest, "bbb.slots"), "utf8")).toBe("5461-10922\n");
    });

    it("exits non-zero when a master fails, writes no backup and prunes nothing", () => {
        standInCli(NODES, "10.0.0.2");
        const { code, log, left } = run(1);
        expect(code).not.toBe(0);
        expect(log).toContain("master bbb (10.0.0.2) failed: connection refused");
        expect(left).toEqual(STAMPS);
    });

    it("refuses to back up a cluster whose masters do not serve every slot", () => {
        standInCli(NODES.split("\n").filter((l) => !l.startsWith("ccc")).join("\n"));
        const { code, log, left } = run(1);
        expect(code).not.toBe(0);
        expect(log).toContain("the masters serve 10923 of 16384 slots");
        expect(left).toEqual(STAMPS);
    });
});
