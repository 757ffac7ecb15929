import { loadSettings, SettingsError } from "../../settings";

const load = (zookeeper: Record<string, unknown>) => loadSettings({ "bss:zookeeper": JSON.stringify(zookeeper) }, "test");

describe("bss:zookeeper.metricsImage", () => {
    it("defaults to the ZooKeeper release Kafka 3.9.2 bundles", () => {
        expect(load({}).zookeeper.metricsImage).toBe("zookeeper:3.8.4");
    });

    it("accepts another pinned image", () => {
        expect(load({ metricsImage: "registry.example.com/zookeeper:3.8.4" }).zookeeper.metricsImage).toBe("registry.example.com/zookeeper:3.8.4");
    });

    it.each(["zookeeper:latest", "zookeeper"])("refuses the floating %s, naming the key and the value", (image) => {
        expect(() => load({ metricsImage: image })).toThrow(SettingsError);
        expect(() => load({ metricsImage: image })).toThrow(`bss:zookeeper.metricsImage must be an image reference with a pinned tag or digest (not "latest"), got "${image}"`);
    });
});
