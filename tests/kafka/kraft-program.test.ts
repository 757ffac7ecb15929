/**
 * The whole program (index.ts) rendered for KRaft stacks: the controller quorum, brokers in KRaft mode, no ZooKeeper
 * object anywhere, and the ZooKeeper stack left as it was.
 */
import { inlineConfig, object, outputValue, RenderedStack, renderIsolated, stackFile } from "../helpers/render";
import { loadSettings } from "../../settings";
import { SECRET_PLACEHOLDER } from "../../render/render";
import { bssPolicies, podTemplateOf, policyContext, STACK_TYPE, StackResource } from "../../policy/rules";
import { restrictedViolations } from "../../policy/pod-security";
import { runPolicies } from "../policy/policy-args";

type Obj = Record<string, any>;

const properties = (text: string) => Object.fromEntries(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

function kraftConfig(stack: "dev" | "prod", kafka: Record<string, unknown> = {}) {
    const base = stackFile(stack);
    const current = base.values["bss:kafka"] ? JSON.parse(base.values["bss:kafka"]) : {};
    // A KRaft stack file has no bss:zookeeper (the settings refuse it there).
    const { "bss:zookeeper": _zookeeper, ...values } = base.values;
    return { ...base, values: { ...values, "bss:kafka": JSON.stringify({ ...current, metadata: "kraft", ...kafka }) } };
}

/**
 * Every rendered object that is ZooKeeper's (by name or labels) or points at it (a connect string, its DNS names or
 * client port, its scrape job or alert), whatever its kind. Comments of the shipped scripts may still say the word.
 */
function zookeeperObjects(rendered: RenderedStack): string[] {
    const pointsAtZookeeper = /zookeeper\.connect|zookeeper-headless|zookeeper\.[a-z0-9-]+\.svc|:2181\b|ZooKeeperQuorumLost|job_name: zookeeper|bss-zookeeper/;
    return rendered.manifests
        .filter((m) => /zookeeper/i.test(JSON.stringify([m.metadata?.name, m.metadata?.labels ?? {}])) || pointsAtZookeeper.test(JSON.stringify(m)))
        .map((m) => `${m.kind}/${m.metadata?.name}`);
}

let dev: RenderedStack;
let prod: RenderedStack;
let zookeeperDev: RenderedStack;

beforeAll(async () => {
    dev = await renderIsolated("dev", kraftConfig("dev"));
    prod = await renderIsolated("prod", kraftConfig("prod", { controllers: 5 }));
    zookeeperDev = await renderIsolated("dev");
}, 120_000);

describe("a KRaft stack (bss:kafka.metadata: kraft)", () => {
    it("has no ZooKeeper object: no StatefulSet, Service, PDB, ConfigMap, NetworkPolicy, scrape target or rule names it", () => {
        expect(zookeeperObjects(dev)).toEqual([]);
        expect(zookeeperObjects(prod)).toEqual([]);
        // The same search finds them in a ZooKeeper stack: it is not blind.
        expect(zookeeperObjects(zookeeperDev)).toEqual(expect.arrayContaining(["StatefulSet/zookeeper", "Service/zookeeper", "ConfigMap/zookeeper-config", "ConfigMap/kafka-config",
            "NetworkPolicy/zookeeper-ingress", "NetworkPolicy/kafka-egress"]));
    });

    it("runs one controller in dev and bss:kafka.controllers in prod, voters 1000 + ordinal, brokers ids 0..n", () => {
        expect(object(dev, "StatefulSet", "kafka-controller").spec.replicas).toBe(1);
        expect(object(prod, "StatefulSet", "kafka-controller").spec.replicas).toBe(5);
        const controller = properties(object(prod, "ConfigMap", "kafka-controller-config").data["controller.properties"]);
        expect(controller["controller.quorum.voters"]).toBe([0, 1, 2, 3, 4]
            .map((i) => `${1000 + i}@kafka-controller-${i}.kafka-controller-headless.bss.svc.cluster.local:9093`).join(","));
        const broker = properties(object(prod, "ConfigMap", "kafka-config").data["server.properties"]);
        expect(broker["controller.quorum.voters"]).toBe(controller["controller.quorum.voters"]);
        expect(broker["process.roles"]).toBe("broker");
        expect(broker["zookeeper.connect"]).toBeUndefined();
    });

    it("hands brokers and controllers one cluster ID through their env, from a RandomId of 16 bytes kept in state", async () => {
        const ids = (rendered: RenderedStack) => ["kafka", "kafka-controller"].map((name) => {
            const pod = object(rendered, "StatefulSet", name).spec.template.spec;
            return pod.containers[0].env.find((e: Obj) => e.name === "KAFKA_CLUSTER_ID").value;
        });
        const [broker, controller] = ids(dev);
        expect(broker).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(controller).toBe(broker);
        expect(await outputValue(dev.exports.kafkaClusterId)).toBe(broker);
        const randomId = dev.resources.find((r) => r.type === "random:index/randomId:RandomId");
        expect(randomId?.inputs).toEqual({ byteLength: 16 });
        // Not in any command line.
        for (const name of ["kafka", "kafka-controller"]) {
            const container = object(dev, "StatefulSet", name).spec.template.spec.containers[0];
            expect(JSON.stringify([container.command, container.args ?? []])).not.toContain(broker);
        }
    });

    it("gives the controllers their own policies: the controller port from brokers and controllers only, egress to each other", () => {
        const policy = (name: string) => object(dev, "NetworkPolicy", name).spec;
        const controllerPods = { podSelector: { matchLabels: { "app.kubernetes.io/name": "kafka-controller", "app.kubernetes.io/part-of": "bss" } } };
        const brokerPods = { podSelector: { matchLabels: { "app.kubernetes.io/name": "kafka", "app.kubernetes.io/part-of": "bss" } } };
        expect(policy("kafka-controller-ingress").ingress).toEqual([{ from: [brokerPods, controllerPods], ports: [{ protocol: "TCP", port: 9093 }] }]);
        expect(policy("kafka-controller-egress").egress).toEqual([{ to: [controllerPods], ports: [{ protocol: "TCP", port: 9093 }] }]);
        expect(policy("kafka-egress").egress).toContainEqual({ to: [controllerPods], ports: [{ protocol: "TCP", port: 9093 }] });
    });

    it("exports the metadata mode and the quorum, and null for zookeeperConnect", async () => {
        expect(dev.exports.kafkaMetadata).toBe("kraft");
        expect(dev.exports.zookeeperConnect).toBeNull();
        expect(dev.exports.kafkaControllerQuorumVoters).toBe("1000@kafka-controller-0.kafka-controller-headless.bss.svc.cluster.local:9093");
        expect(zookeeperDev.exports.kafkaMetadata).toBe("zookeeper");
        expect(zookeeperDev.exports.kafkaControllerQuorumVoters).toBeNull();
    });

    it("keeps what clients see: the same Services, ports and advertised listeners as a ZooKeeper stack", () => {
        const services = (rendered: RenderedStack) => rendered.manifests.filter((m) => m.kind === "Service" && /^kafka(-\d+-external|-headless)?$/.test(m.metadata.name))
            .map((m) => ({ name: m.metadata.name, spec: m.spec }));
        expect(services(dev)).toEqual(services(zookeeperDev));
        const listeners = (rendered: RenderedStack) => properties(object(rendered, "ConfigMap", "kafka-config").data["server.properties"]).listeners;
        expect(listeners(dev)).toBe(listeners(zookeeperDev));
    });
});

describe("the policy pack and Pod Security over a KRaft stack", () => {
    /** What the engine would hand the pack (as tests/policy/stacks.test.ts builds it, without the Kong chart's pod). */
    async function resources(rendered: RenderedStack): Promise<StackResource[]> {
        const exports: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(rendered.exports)) {
            exports[name] = value && typeof value === "object" && "apply" in value ? await outputValue(value as any) : value;
        }
        return [
            ...rendered.resources.map((r) => ({ type: r.type, name: r.name, props: r.type.startsWith("random:index/randomPassword") ? { ...r.inputs, result: SECRET_PLACEHOLDER } : r.inputs })),
            { type: STACK_TYPE, name: "bss-kraft", props: exports },
        ];
    }

    it.each(["dev", "prod"] as const)("%s: no violation of the pack; the controllers' and brokers' pods meet restricted", async (stack) => {
        const rendered = stack === "dev" ? dev : prod;
        const config = kraftConfig(stack, stack === "prod" ? { controllers: 5 } : {});
        const all = await resources(rendered);
        expect(await runPolicies(bssPolicies(policyContext(loadSettings(config.values, stack, new Set(config.secretKeys)))), all)).toEqual([]);
        const templates = all.flatMap((r) => {
            const template = podTemplateOf(r.type, r.props);
            return template ? [{ name: r.name, problems: restrictedViolations(template.spec, template.metadata?.annotations ?? {}) }] : [];
        });
        expect(templates.map((t) => t.name)).toEqual(expect.arrayContaining(["kafka", "kafka-controller"]));
        expect(templates.filter((t) => t.problems.length > 0)).toEqual([]);
    });
});

describe("a ZooKeeper stack", () => {
    it("has no controller object and no cluster ID resource", () => {
        expect(zookeeperDev.manifests.filter((m) => /kafka-controller/.test(m.metadata?.name ?? ""))).toEqual([]);
        expect(zookeeperDev.resources.filter((r) => r.type.startsWith("random:index/randomId"))).toEqual([]);
    });
});

it("refuses ZooKeeper settings on a KRaft stack before any resource is created", async () => {
    const config = inlineConfig({ "bss:environment": "dev", "bss:kafka": { metadata: "kraft" }, "bss:zookeeper": { replicas: 3 } });
    await expect(renderIsolated("dev", config)).rejects.toThrow(/bss:zookeeper configures the ZooKeeper ensemble, which a stack with bss:kafka.metadata "kraft" does not run/);
});
