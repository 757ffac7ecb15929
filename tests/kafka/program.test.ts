/** The real program (index.ts) under Pulumi's mock engine: components, outputs and objects of several stack shapes. */
import { StackConfig } from "../../render/render";
import { checkObjects } from "../helpers/api-server-rules";
import { renderIsolated, RenderedStack, stackFile } from "../helpers/render";

jest.setTimeout(30_000);

/** The dev stack with `bss:kafka` replaced. */
function devWith(kafka: Record<string, unknown>, extra: Record<string, unknown> = {}): StackConfig {
    const dev = stackFile("dev");
    return { values: { ...dev.values, "bss:kafka": JSON.stringify(kafka), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])) }, secretKeys: dev.secretKeys };
}

const kinds = (p: RenderedStack, kind: string) => p.manifests.filter((m) => m.kind === kind);

it.each([
    ["dev", () => stackFile("dev"), 3, 1],
    ["prod", () => stackFile("prod"), 3, 3],
    ["one broker", () => devWith({ brokers: 1 }), 1, 1],
    ["five brokers", () => devWith({ brokers: 5 }, { "bss:zookeeper": { replicas: 3 } }), 5, 3],
])("%s: builds the ZooKeeper and Kafka components with objects the API server accepts", async (_, config, brokers, members) => {
    const p = await renderIsolated("dev", config());
    expect(p.resources.filter((r) => r.type === "bss:zookeeper:ZookeeperEnsemble")).toHaveLength(1);
    expect(p.resources.filter((r) => r.type === "bss:kafka:KafkaCluster")).toHaveLength(1);
    const sts = (name: string) => kinds(p, "StatefulSet").find((s) => s.metadata.name === name)!;
    expect(sts("kafka").spec.replicas).toBe(brokers);
    expect(sts("zookeeper").spec.replicas).toBe(members);
    const external = kinds(p, "Service").filter((s) => /^kafka-\d+-external$/.test(s.metadata.name));
    expect(external.map((s) => s.spec.ports[0].nodePort)).toEqual([...Array(brokers).keys()].map((i) => 30092 + i));
    expect(kinds(p, "PodDisruptionBudget").map((b) => b.metadata.name).filter((n) => n === "kafka" || n === "zookeeper"))
        .toEqual(members > 1 ? expect.arrayContaining(["kafka", "zookeeper"]) : ["kafka"]);
    const properties: string = kinds(p, "ConfigMap").find((c) => c.metadata.name === "kafka-config")!.data["server.properties"];
    expect(properties).toMatch(new RegExp(`^default\\.replication\\.factor=${Math.min(3, brokers)}$`, "m"));
    expect(checkObjects(p.manifests)).toEqual([]);
});

it("renders the whole program's broker pod template the same for 3 and 5 brokers: scaling rolls none of the running brokers", async () => {
    const three = await renderIsolated("dev", devWith({ brokers: 3 }));
    const five = await renderIsolated("dev", devWith({ brokers: 5 }));
    const sts = (p: RenderedStack) => kinds(p, "StatefulSet").find((s) => s.metadata.name === "kafka")!;
    expect([sts(three).spec.replicas, sts(five).spec.replicas]).toEqual([3, 5]);
    expect(sts(five).spec.template).toEqual(sts(three).spec.template);
});

it("exports the bootstrap addresses and the ZooKeeper connect string", async () => {
    const p = await renderIsolated("dev", stackFile("dev"));
    expect(p.exports.kafkaInternalBootstrap).toBe("kafka.bss.svc.cluster.local:9092");
    expect(p.exports.kafkaExternalBootstrap).toEqual(["localhost:9092", "localhost:9093", "localhost:9094"]);
    expect(p.exports.zookeeperConnect).toBe("zookeeper-0.zookeeper-headless.bss.svc.cluster.local:2181/bss-kafka");
});

it("advertises a minikube-style host on the nodePorts, and everything follows another namespace", async () => {
    const p = await renderIsolated("minikube", devWith({ externalHost: "192.168.49.2", externalPortBase: 30092 }, { "bss:namespace": "telco" }));
    expect(p.exports.kafkaExternalBootstrap).toEqual(["192.168.49.2:30092", "192.168.49.2:30093", "192.168.49.2:30094"]);
    const env = kinds(p, "StatefulSet").find((s) => s.metadata.name === "kafka")!.spec.template.spec.containers[0].env;
    expect(env).toEqual(expect.arrayContaining([{ name: "KAFKA_EXTERNAL_HOST", value: "192.168.49.2" }, { name: "KAFKA_EXTERNAL_PORT_BASE", value: "30092" }]));
    expect(kinds(p, "ConfigMap").find((c) => c.metadata.name === "kafka-config")!.data["server.properties"])
        .toMatch(/^zookeeper\.connect=zookeeper-0\.zookeeper-headless\.telco\.svc\.cluster\.local:2181\/bss-kafka$/m);
    expect(p.exports.kafkaInternalBootstrap).toBe("kafka.telco.svc.cluster.local:9092");
    expect(checkObjects(p.manifests)).toEqual([]);
});
