import { loadSettings } from "../../settings";
import { RedisSettings } from "../../settings/redis";

function redisSettings(redis: Record<string, unknown> = {}, environment = "prod"): RedisSettings {
    return loadSettings({ "bss:environment": environment, "bss:redis": JSON.stringify(redis) }, "test").redis;
}

describe("bss:redis validation", () => {
    const problems = (redis: Record<string, unknown>, environment = "prod"): string[] => {
        try {
            redisSettings(redis, environment);
            return [];
        } catch (error) {
            return (error as { problems: string[] }).problems;
        }
    };

    it("refuses 2 masters, naming the key and the value", () => {
        expect(problems({ masters: 2 })).toEqual([expect.stringMatching(/^bss:redis\.masters must be 1 or at least 3 .*got 2$/)]);
    });

    it("refuses replicas of a lone master", () => {
        expect(problems({ masters: 1, replicasPerMaster: 1 })).toEqual([expect.stringMatching(/^bss:redis\.replicasPerMaster must be 0 when bss:redis\.masters is 1 .*got 1$/)]);
    });

    it("refuses a maxmemory that leaves no room below the memory limit", () => {
        expect(problems({ maxmemory: "250mb" })).toEqual([
            "bss:redis.maxmemory must leave room below bss:redis.resources.limits.memory (256Mi) for buffers, forks and the AOF rewrite: at most 204mb, got \"250mb\"",
        ]);
        expect(problems({ maxmemory: "1gb", resources: { limits: { memory: "2Gi" } } })).toEqual([]);
    });

    it("reports every problem at once", () => {
        expect(problems({ masters: 2, maxmemory: "300mb" }).map((p) => p.split(" ")[0])).toEqual(["bss:redis.masters", "bss:redis.maxmemory"]);
    });

    it.each([
        ["dev", 1, 0],
        ["prod", 3, 1],
    ])("defaults the %s shape to %i master(s) x %i replica(s)", (environment, masters, replicas) => {
        const s = redisSettings({}, environment);
        expect([s.masters, s.replicasPerMaster]).toEqual([masters, replicas]);
    });

    it("pins BSD-licensed images to a patch release", () => {
        const s = redisSettings();
        expect(s.image).toMatch(/^redis:7\.2\.\d+$/);
        expect(s.exporterImage).toMatch(/^oliver006\/redis_exporter:v\d+\.\d+\.\d+$/);
    });
});

describe("bss:redis.hostAccess", () => {
    it("exposes Redis outside the cluster only in dev unless asked", () => {
        expect(redisSettings({}, "dev").hostAccess).toBe(true);
        expect(redisSettings({}, "prod").hostAccess).toBe(false);
        expect(redisSettings({ hostAccess: true }, "prod").hostAccess).toBe(true);
    });

    it("claims its nodePort only when exposed", () => {
        expect(() => loadSettings({ "bss:redis": JSON.stringify({ nodePort: 30092 }) }, "test")).not.toThrow();
        expect(() => loadSettings({ "bss:redis": JSON.stringify({ hostAccess: true, nodePort: 30092 }) }, "test")).toThrow(/bss:redis.nodePort uses nodePort 30092/);
    });
});
