import * as path from "path";
import { loadSettings } from "../../settings";
import { readStackConfigFile } from "../../render/render";
import { planTargets, readKindPortMap } from "../../scripts/verify/targets";
import { ROOT } from "../helpers/render";

const kind = readKindPortMap(path.join(ROOT, "kind", "cluster.yaml"));

function stack(name: string) {
    const config = readStackConfigFile(path.join(ROOT, `Pulumi.${name}.yaml`));
    return { settings: loadSettings(config.values, name, new Set(config.secretKeys)), context: config.values["kubernetes:context"] };
}

describe("where verify reaches a stack", () => {
    it("reads kind's host port mappings from kind/cluster.yaml", () => {
        expect(kind.cluster).toBe("bss");
        expect(kind.ports.get(30700)).toEqual({ host: "127.0.0.1", port: 7000 });
        expect(kind.ports.get(30800)).toEqual({ host: "127.0.0.1", port: 8000 });
    });

    it("dev on kind: Kafka on its EXTERNAL listeners, Redis and the Kong proxy through kind's loopback mappings, AKHQ's management port by port-forward", () => {
        const { settings, context } = stack("dev");
        const plan = planTargets(settings, context, kind);
        expect(plan.kafka.bootstrap).toEqual(["localhost:9092", "localhost:9093", "localhost:9094"]);
        expect(plan.redis).toMatchObject({ kind: "address", host: "127.0.0.1", port: 7000 });
        expect(plan.kong).toMatchObject({ kind: "address", host: "127.0.0.1", port: 8000 });
        expect(plan.akhq).toMatchObject({ kind: "port-forward", resource: "deployment/akhq", remotePort: 28081 });
    });

    it("prod: Redis (no host access) by port-forward to its client Service, Kong through its load balancer", () => {
        const { settings, context } = stack("prod");
        const plan = planTargets(settings, context, kind);
        expect(plan.kafka.bootstrap).toEqual(["kafka.bss.example.com:9092", "kafka.bss.example.com:9093", "kafka.bss.example.com:9094"]);
        expect(plan.redis).toMatchObject({ kind: "port-forward", resource: "service/redis-cluster", remotePort: 7000 });
        expect(plan.kong).toMatchObject({ kind: "load-balancer", service: "kong-proxy", port: 80 });
    });

    it("a cluster other than the repository's kind: NodePorts on bss:kafka.externalHost, a ClusterIP proxy by port-forward", () => {
        const minikube = loadSettings({
            "bss:environment": "dev",
            "bss:kafka": JSON.stringify({ externalHost: "192.168.49.2", externalPortBase: 30092 }),
            "bss:kong": JSON.stringify({ proxyServiceType: "ClusterIP" }),
        }, "minikube");
        const plan = planTargets(minikube, "minikube", kind);
        expect(plan.kafka.bootstrap).toEqual(["192.168.49.2:30092", "192.168.49.2:30093", "192.168.49.2:30094"]);
        expect(plan.redis).toMatchObject({ kind: "address", host: "192.168.49.2", port: 30700 });
        expect(plan.kong).toMatchObject({ kind: "port-forward", resource: "service/kong-proxy", remotePort: 80 });
    });

    it("takes addresses from flags over the settings, and refuses malformed ones naming the flag", () => {
        const { settings, context } = stack("prod");
        const plan = planTargets(settings, context, kind, {
            kafkaBootstrap: ["127.0.0.1:19092"], redisAddress: "10.0.0.5:7000", kongProxy: "http://127.0.0.1:8000", akhqUrl: "http://127.0.0.1:28081",
        });
        expect(plan.kafka).toEqual({ bootstrap: ["127.0.0.1:19092"], source: "--kafka-bootstrap" });
        expect(plan.redis).toMatchObject({ kind: "address", host: "10.0.0.5", port: 7000, source: "--redis-address" });
        expect(plan.kong).toMatchObject({ kind: "url", url: "http://127.0.0.1:8000" });
        expect(plan.akhq).toMatchObject({ kind: "url", url: "http://127.0.0.1:28081" });
        expect(() => planTargets(settings, context, kind, { redisAddress: "redis" })).toThrow('--redis-address must be host:port, got "redis"');
        expect(() => planTargets(settings, context, kind, { kafkaBootstrap: ["localhost:99999"] })).toThrow("--kafka-bootstrap must be host:port");
        expect(() => planTargets(settings, context, kind, { kongProxy: "127.0.0.1:8000" })).toThrow('--kong-proxy must be an http:// or https:// URL, got "127.0.0.1:8000"');
    });
});
