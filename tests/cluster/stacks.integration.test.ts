/**
 * The stacks on a real Kubernetes cluster (scripts/test-cluster.sh): etcd, kube-apiserver, the controller-manager,
 * the scheduler, and three nodes with their own kubelet and containerd. The rendered objects go in with
 * `kubectl apply --server-side --validate=strict`; the StatefulSet, Job and disruption controllers, the scheduler and
 * the kubelets' probes do the rest.
 */
import { Kafka, logLevel } from "kafkajs";
import * as path from "path";
import { RenderedStack, ROOT, stackFile } from "../helpers/render";
import { clusterManifests, renderForCluster } from "../helpers/cluster-stack";
import { eventually, hostCommand, NODES, PodInfo, RUN, TestCluster } from "../helpers/test-cluster";
import { readStackConfigFile, StackConfig } from "../../render/render";

jest.setTimeout(600_000);

const NAMESPACE = "bss";
const KAFKA = "app.kubernetes.io/name=kafka";
const ZOOKEEPER = "app.kubernetes.io/name=zookeeper";
const REDIS = "app.kubernetes.io/name=redis-cluster";

let cluster: TestCluster;

beforeAll(async () => {
    cluster = await TestCluster.up();
}, 3_000_000);

afterAll(async () => {
    await cluster?.down();
}, 300_000);

/** Removes a stack's namespace at once (pods without their grace period): the next stack starts clean. */
async function removeNamespace(namespace: string): Promise<void> {
    await cluster.kubectlResult(["-n", namespace, "delete", "pods", "--all", "--grace-period=0", "--force"]);
    await cluster.kubectl(["delete", "namespace", namespace, "--wait=true", "--timeout=180s"]);
}

function withKafka(config: StackConfig, fields: Record<string, unknown>): StackConfig {
    const current = config.values["bss:kafka"] ? JSON.parse(config.values["bss:kafka"]) : {};
    return { ...config, values: { ...config.values, "bss:kafka": JSON.stringify({ ...current, ...fields }) } };
}

describe("the cluster", () => {
    it("has three Ready nodes in three zones, each with its own address and containerd", async () => {
        const nodes = await cluster.json(["get", "nodes"]);
        const summary = nodes.items.map((n: any) => ({
            name: n.metadata.name,
            zone: n.metadata.labels["topology.kubernetes.io/zone"],
            ip: n.status.addresses.find((a: any) => a.type === "InternalIP").address,
            runtime: n.status.nodeInfo.containerRuntimeVersion,
            kubelet: n.status.nodeInfo.kubeletVersion,
            ready: n.status.conditions.find((c: any) => c.type === "Ready").status,
        }));
        expect(summary).toEqual(NODES.map((name, i) => ({
            name, zone: `zone-${name.slice(-1)}`, ip: `10.244.${i}.1`, runtime: expect.stringMatching(/^containerd:\/\/2\.2\.9/), kubelet: "v1.34.4", ready: "True",
        })));
    });

    it("resolves Service names through the cluster DNS and nothing outside cluster.local", async () => {
        const inside = await cluster.runClient(["getent", "hosts", "kubernetes.default.svc.cluster.local"]);
        expect(inside.stdout).toMatch(/^10\.96\.0\.1\s/);
        // No forwarding: a name outside the cluster does not resolve (CoreDNS refuses it; nothing is asked upstream).
        const outside = await cluster.runClient(["getent", "hosts", "example.com"]);
        expect(outside.code).not.toBe(0);
    });
});

describe("dev stack", () => {
    let rendered: RenderedStack;

    beforeAll(async () => {
        rendered = await renderForCluster("dev");
    });

    afterAll(async () => {
        await removeNamespace(NAMESPACE);
    });

    it("is accepted whole by the API server: no rejection, no warning, under PodSecurity restricted", async () => {
        const { warnings } = await cluster.apply(clusterManifests(rendered));
        expect(warnings.trim()).toBe("");
        const namespace = await cluster.json(["get", "namespace", NAMESPACE]);
        expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    });

    it("runs: ZooKeeper, three brokers and the single-node Redis cluster turn Ready by the kubelets' probes, the bootstrap Job completes", async () => {
        await cluster.waitReady(NAMESPACE, ZOOKEEPER, 1);
        await cluster.waitReady(NAMESPACE, KAFKA, 3);
        expect((await cluster.jobFinished(NAMESPACE, "redis-cluster-bootstrap", 300_000)).complete).toBe(true);
        await cluster.waitReady(NAMESPACE, REDIS, 1);
        const claims = await cluster.json(["-n", NAMESPACE, "get", "pvc"]);
        expect(claims.items.map((c: any) => c.status.phase)).toEqual(claims.items.map(() => "Bound"));
    });

    it("keeps each pod's network namespace under its node's containerd state, where `down` removes it, and none in the host's /run/netns", async () => {
        await cluster.waitReady(NAMESPACE, KAFKA, 3);
        const brokers = await cluster.pods(NAMESPACE, KAFKA);
        const namespaces = (await hostCommand("findmnt", ["-rn", "-t", "nsfs", "-o", "TARGET"])).split("\n").filter((m) => m !== "");
        const holders: Record<string, string[]> = {};
        for (const mount of namespaces) {
            const addresses = await hostCommand("nsenter", [`--net=${mount}`, "ip", "-o", "-4", "addr", "show"]).catch(() => "");
            for (const broker of brokers.filter((b) => addresses.includes(`inet ${b.ip}/`))) {
                (holders[broker.name] ??= []).push(mount);
            }
        }
        expect(Object.fromEntries(brokers.map((b) => [b.name, (holders[b.name] ?? []).map((m) => m.startsWith(`${RUN}/nodes/${b.node}/containerd/state/`))])))
            .toEqual(Object.fromEntries(brokers.map((b) => [b.name, [true]])));
    });

    it("serves Kafka on the host through the NodePorts and kind's port maps (localhost:9092-9094)", async () => {
        const kafka = new Kafka({ clientId: "host-test", brokers: ["localhost:9092"], logLevel: logLevel.NOTHING, retry: { retries: 10 } });
        const admin = kafka.admin();
        await admin.connect();
        try {
            const described = await admin.describeCluster();
            expect(described.brokers.map((b) => `${b.nodeId} ${b.host}:${b.port}`).sort()).toEqual(["0 localhost:9092", "1 localhost:9093", "2 localhost:9094"]);
        } finally {
            await admin.disconnect();
        }
    });

    it("rolls the brokers one at a time through the StatefulSet controller when their config changes", async () => {
        const before = await cluster.pods(NAMESPACE, KAFKA);
        const changed = await renderForCluster("dev", withKafka(stackFile("dev"), { logRetentionHours: 96 }));
        await cluster.apply(clusterManifests(changed).filter((m) => m.metadata?.name?.startsWith("kafka")));

        let mostNotReady = 0;
        const rolled = await eventually("every broker replaced and Ready", 600_000, async () => {
            const pods = (await cluster.pods(NAMESPACE, KAFKA)).filter((p) => !p.deleting);
            const notReady = 3 - pods.filter((p) => p.ready).length;
            mostNotReady = Math.max(mostNotReady, notReady);
            const replaced = pods.filter((p) => !before.some((b) => b.uid === p.uid));
            return replaced.length === 3 && notReady === 0 ? pods : undefined;
        }, 1_000);
        expect(rolled.map((p) => p.name)).toEqual(["kafka-0", "kafka-1", "kafka-2"]);
        expect(mostNotReady).toBe(1);
        const sts = await cluster.json(["-n", NAMESPACE, "get", "statefulset", "kafka"]);
        expect(sts.status.updateRevision).toBe(sts.status.currentRevision);
        const config = await cluster.exec(NAMESPACE, "kafka-0", "kafka", ["cat", "/etc/kafka/server.properties"]);
        expect(config.stdout).toMatch(/^log\.retention\.hours=96$/m);
    });

    it("lets `kubectl drain` evict only as far as the brokers' PodDisruptionBudget allows", async () => {
        const brokers = await cluster.pods(NAMESPACE, KAFKA);
        const byNode = new Map<string, PodInfo[]>();
        brokers.forEach((p) => byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]));
        const [node, onNode] = [...byNode.entries()].sort((a, b) => b[1].length - a[1].length)[0];
        const others = brokers.filter((p) => p.node !== node);

        // A drain evicts through the Eviction API: the first broker goes; its volume pins it to the drained node, so it
        // stays Pending, and the budget (maxUnavailable 1) refuses every further eviction meanwhile.
        const drain = await cluster.kubectlResult(["drain", node, "--pod-selector", KAFKA, "--delete-emptydir-data", "--timeout=45s"], { timeoutMs: 90_000 });
        const pending = await eventually("an evicted broker Pending on the cordoned node", 60_000, async () =>
            (await cluster.pods(NAMESPACE, KAFKA)).find((p) => p.phase === "Pending" && !p.deleting));
        expect(onNode.map((p) => p.name)).toContain(pending.name);
        if (onNode.length > 1) {
            expect(drain.code).not.toBe(0);
            expect(drain.stderr).toMatch(/disruption budget/);
        }
        const refused = await cluster.kubectlResult(["create", "--raw", `/api/v1/namespaces/${NAMESPACE}/pods/${others[0].name}/eviction`, "-f", "-"], {
            input: JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: others[0].name, namespace: NAMESPACE } }),
        });
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/disruption budget/);

        await cluster.kubectl(["uncordon", node]);
        const back = await cluster.waitReady(NAMESPACE, KAFKA, 3);
        expect(back.find((p) => p.name === pending.name)?.node).toBe(node);
    });
});

describe("prod stack on three nodes", () => {
    beforeAll(async () => {
        const rendered = await renderForCluster("prod");
        const { warnings } = await cluster.apply(clusterManifests(rendered));
        expect(warnings.trim()).toBe("");
    });

    afterAll(async () => {
        await removeNamespace(NAMESPACE);
    });

    it("places one ZooKeeper member and one broker per node (required anti-affinity), all Ready", async () => {
        const zookeeper = await cluster.waitReady(NAMESPACE, ZOOKEEPER, 3);
        const kafka = await cluster.waitReady(NAMESPACE, KAFKA, 3);
        expect(new Set(zookeeper.map((p) => p.node)).size).toBe(3);
        expect(new Set(kafka.map((p) => p.node)).size).toBe(3);
    });

    it("places the six Redis pods two per node (topology spread, at most one more per node) and forms the cluster: bootstrap Job complete, all six Ready", async () => {
        const placed = await eventually("six Redis pods scheduled", 120_000, async () => {
            const pods = await cluster.pods(NAMESPACE, REDIS);
            return pods.length === 6 && pods.every((p) => p.node !== "") ? pods : undefined;
        }, 2_000);
        expect(NODES.map((node) => placed.filter((p) => p.node === node).length)).toEqual([2, 2, 2]);
        expect((await cluster.jobFinished(NAMESPACE, "redis-cluster-bootstrap", 300_000)).complete).toBe(true);
        await cluster.waitReady(NAMESPACE, REDIS, 6);
    });
});

describe("five-broker fixture", () => {
    it("is accepted whole by a server-side dry run: no rejection, no warning", async () => {
        const rendered = await renderForCluster("large", readStackConfigFile(path.join(ROOT, "tests", "fixtures", "Pulumi.large.yaml")));
        const objects = clusterManifests(rendered);
        const namespaces = objects.filter((o) => o.kind === "Namespace");
        await cluster.apply(namespaces);
        const result = await cluster.kubectlResult(["apply", "--server-side", "--dry-run=server", "--validate=strict", "--field-manager=bss-tests", "-f", "-"],
            { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects.filter((o) => o.kind !== "Namespace") }) });
        expect({ code: result.code, warnings: result.stderr.trim() }).toEqual({ code: 0, warnings: "" });
        expect(result.stdout.split("\n").filter((l) => l.includes("serverside-applied (server dry run)")).length).toBe(objects.length - namespaces.length);
    });
});
