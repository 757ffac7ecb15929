import { loadSettings } from "../../settings";
import { RedisSettings } from "../../settings/redis";
import { BUS_PORT, CLIENT_PORT, PATHS, renderRedisConf } from "../../components/redis/config";

function redisSettings(redis: Record<string, unknown> = {}, environment = "prod"): RedisSettings {
    return loadSettings({ "bss:environment": environment, "bss:redis": JSON.stringify(redis) }, "test").redis;
}

/** redis.conf directives as name → arguments (every directive appears once in the rendered file). */
function directives(text: string): Map<string, string> {
    const found = new Map<string, string>();
    for (const line of text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))) {
        const [name, ...rest] = line.split(/\s+/);
        expect(found.has(name)).toBe(false);
        found.set(name, rest.join(" "));
    }
    return found;
}

describe("renderRedisConf", () => {
    const conf = directives(renderRedisConf(redisSettings({ maxmemory: "700mb", maxmemoryPolicy: "volatile-lfu", clusterNodeTimeoutMs: 3000, resources: { limits: { memory: "1Gi" } } })));

    it("runs cluster mode on the client port with the bus on cluster-port", () => {
        expect(conf.get("cluster-enabled")).toBe("yes");
        expect(conf.get("port")).toBe(String(CLIENT_PORT));
        expect(conf.get("cluster-port")).toBe(String(BUS_PORT));
        expect([CLIENT_PORT, BUS_PORT]).toEqual([7000, 7001]);
        expect(conf.get("cluster-config-file")).toBe("nodes.conf");
        expect(conf.get("cluster-node-timeout")).toBe("3000");
    });

    it("persists with AOF fsynced every second plus RDB snapshots, on the PVC", () => {
        expect(conf.get("appendonly")).toBe("yes");
        expect(conf.get("appendfsync")).toBe("everysec");
        expect(conf.get("save")).toBe("3600 1 300 100 60 10000");
        expect(conf.get("dbfilename")).toBe("dump.rdb");
        expect(conf.get("dir")).toBe(PATHS.dataDir);
    });

    it("takes maxmemory and its policy from the settings", () => {
        expect(conf.get("maxmemory")).toBe("700mb");
        expect(conf.get("maxmemory-policy")).toBe("volatile-lfu");
    });

    it("holds neither a password nor an announced address (the start script adds both at runtime)", () => {
        for (const directive of ["requirepass", "masterauth", "cluster-announce-ip", "include"]) {
            expect(conf.has(directive)).toBe(false);
        }
    });

    it("logs to stdout and stays in the foreground", () => {
        expect(conf.get("daemonize")).toBe("no");
        expect(conf.get("logfile")).toBe('""');
    });
});
