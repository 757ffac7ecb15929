import { loadSettings, SettingsError } from "../../settings";
import { AkhqSettings } from "../../settings/akhq";

const akhqSettings = (akhq: Record<string, unknown>, environment = "prod"): AkhqSettings =>
    loadSettings({ "bss:environment": environment, "bss:akhq": JSON.stringify(akhq) }, "test").akhq;

function problems(akhq: Record<string, unknown>): string[] {
    try {
        akhqSettings(akhq);
        return [];
    } catch (error) {
        return (error as SettingsError).problems;
    }
}

describe("bss:akhq", () => {
    it("defaults to the pinned image, nodePort 30083, /akhq and a 512Mi limit (256Mi requested in dev), with login off and a NodePort only in dev", () => {
        expect(akhqSettings({}, "dev")).toEqual({
            image: "tchiotludo/akhq:0.25.1",
            serviceType: "NodePort",
            nodePort: 30083,
            contextPath: "/akhq",
            authEnabled: false,
            resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        });
        expect(akhqSettings({}, "prod").authEnabled).toBe(true);
        expect(akhqSettings({}, "prod").resources.requests.memory).toBe("512Mi");
        expect(akhqSettings({}, "prod").serviceType).toBe("ClusterIP");
        expect(akhqSettings({ authEnabled: false }, "prod").authEnabled).toBe(false);
    });

    it("refuses a memory limit too small for the JVM heap AKHQ needs, naming the key and the value", () => {
        expect(problems({ resources: { limits: { memory: "256Mi" }, requests: { memory: "256Mi" } } })).toEqual([
            "bss:akhq.resources.limits.memory must be at least 384Mi (half of it is the JVM heap, AKHQ needs 192Mi or more), got \"256Mi\"",
        ]);
        expect(problems({ resources: { limits: { memory: "384Mi" }, requests: { memory: "384Mi" } } })).toEqual([]);
        expect(problems({ resources: { limits: { memory: "1Gi" } } })).toEqual([]);
    });

    it("refuses a memory request above the limit before the API server would", () => {
        expect(problems({ resources: { requests: { memory: "1Gi" } } })).toEqual([
            "bss:akhq.resources.requests.memory must not exceed bss:akhq.resources.limits.memory (512Mi), got \"1Gi\"",
        ]);
    });

    it("reports every problem at once", () => {
        expect(problems({ contextPath: "akhq", nodePort: 80, resources: { limits: { memory: "128Mi" } } }).map((p) => p.split(" ")[0])).toEqual([
            "bss:akhq.contextPath",
            "bss:akhq.nodePort",
            "bss:akhq.resources.limits.memory",
            "bss:akhq.resources.requests.memory",
        ]);
    });
});
