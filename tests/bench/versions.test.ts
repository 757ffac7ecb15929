import { imageTag, kubernetesPin, renderedImages } from "../../bench/sections/versions";
import { machineSection, NOISY_MACHINE_NOTE } from "../../bench/sections/machine";
import { SYNTHETIC_HELM_RELEASES, SYNTHETIC_MANIFESTS } from "./fixtures";

describe("versions", () => {
    it("collects every container image of the pod templates and the charts' image values", () => {
        expect(renderedImages(SYNTHETIC_MANIFESTS, SYNTHETIC_HELM_RELEASES)).toEqual([
            "example/kafka:1.0.0", "example/metrics:1.0.0", "example/prepare:1.0.0", "example/rebalance:1.0.0", "example/redis:1.0.0", "kong:3.9.3",
        ]);
    });

    it("reads a repository's tag with or without a registry, and refuses a missing one", () => {
        const images = ["registry.example.com:5000/apache/kafka:3.9.2", "redis:7.2.16", "oliver006/redis_exporter:v1.91.1"];
        expect(imageTag(images, "apache/kafka")).toBe("3.9.2");
        expect(imageTag(images, "redis")).toBe("7.2.16");
        expect(() => imageTag(images, "zookeeper")).toThrow(/no zookeeper image/);
    });

    it("reads the test cluster's Kubernetes pin from its build script", () => {
        expect(kubernetesPin("#!/bin/bash\nset -e\nK8S_VERSION=v1.34.4\nETCD=v3\n")).toBe("v1.34.4");
        expect(() => kubernetesPin("K8S=1")).toThrow(/K8S_VERSION/);
    });
});

describe("machineSection", () => {
    it("names cores, memory, the CPU model and that the machine is shared and noisy", () => {
        const machine = machineSection({ cpus: [{ model: "AMD EPYC " }, { model: "AMD EPYC" }], totalmem: 24 * 1024 ** 3, loadavg: [1.234, 2, 3], platform: "linux", release: "6.1" });
        expect(machine).toMatchObject({ cores: 2, memoryMiB: 24576, cpuModel: "AMD EPYC", loadAverageAtStart: [1.23, 2, 3] });
        expect(machine.note).toBe(NOISY_MACHINE_NOTE);
        expect(machine.note).toMatch(/one noisy shared machine/);
    });
});
