import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { renderIsolated, RenderedStack, ROOT, stackFile } from "./helpers/render";
import { loadSettings } from "../settings";

/**
 * kind's port mappings and the dev stack must agree: every fixed nodePort the dev stack opens is mapped to
 * the host's loopback, nothing is mapped to a port nobody serves, and each Kafka broker's host port is the
 * one it advertises to clients.
 */
interface PortMapping {
    containerPort: number;
    hostPort: number;
    listenAddress?: string;
    protocol?: string;
}

const cluster = yaml.load(fs.readFileSync(path.join(ROOT, "kind", "cluster.yaml"), "utf8")) as { name: string; nodes: { extraPortMappings?: PortMapping[] }[] };
const mappings = cluster.nodes.flatMap((n) => n.extraPortMappings ?? []);

/** nodePorts the dev stack opens: its own Services plus the Kong chart's, which live in the release values. */
function devNodePorts(rendered: RenderedStack): Map<number, string> {
    const ports = new Map<number, string>();
    for (const service of rendered.manifests.filter((m) => m.kind === "Service")) {
        for (const port of service.spec.ports ?? []) {
            if (port.nodePort !== undefined) {
                ports.set(port.nodePort, `Service ${service.metadata.name}`);
            }
        }
    }
    for (const release of rendered.helmReleases) {
        for (const part of ["proxy", "admin"]) {
            for (const listener of ["http", "tls"]) {
                const section = (release.values as Record<string, any>)[part];
                if (section?.type !== "ClusterIP" && section?.[listener]?.nodePort !== undefined) {
                    ports.set(section[listener].nodePort, `${release.chart} ${part}.${listener}`);
                }
            }
        }
    }
    return ports;
}

let rendered: RenderedStack;
beforeAll(async () => {
    rendered = await renderIsolated("dev");
});

it("is the cluster the dev stack deploys to", () => {
    const dev = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, string> };
    expect(dev.config["kubernetes:context"]).toBe(`kind-${cluster.name}`);
});

it("listens on the host's loopback only", () => {
    expect(mappings.length).toBeGreaterThan(0);
    expect(mappings.filter((m) => m.listenAddress !== "127.0.0.1")).toEqual([]);
});

it("maps exactly the nodePorts the dev stack opens", () => {
    const opened = devNodePorts(rendered);
    expect(opened.size).toBe(7);
    expect(mappings.map((m) => m.containerPort).sort()).toEqual([...opened.keys()].sort());
});

it("gives each broker the host port it advertises", () => {
    const settings = loadSettings(stackFile("dev").values, "dev");
    settings.kafka.nodePorts.forEach((nodePort, i) => {
        expect(mappings.find((m) => m.containerPort === nodePort)?.hostPort).toBe(settings.kafka.externalPorts[i]);
    });
});

it("reproduces the original host port map", () => {
    expect(mappings.map((m) => m.hostPort).sort()).toEqual([7000, 8000, 8083, 8443, 9092, 9093, 9094].sort());
});
