/**
 * A running ZooKeeper ensemble + Kafka brokers, started from the rendered pod specs of a stack by the pod runner
 * (tests/harness/pod-runner.ts), for any test that needs real Kafka:
 *
 *     const cluster = await startKafkaCluster();            // dev stack: 1 ZooKeeper, 3 brokers
 *     // host clients: cluster.externalBootstrap = ["localhost:9092", "localhost:9093", "localhost:9094"]
 *     // in-sandbox clients (sandbox.runClient): cluster.internalBootstrap = "kafka.bss.svc.cluster.local:9092"
 *     await cluster.stop();
 *
 * Each broker's EXTERNAL listener is exposed on 127.0.0.1:<its externalPorts entry> through its own NodePort
 * Service, the way kind's port mappings expose it, so clients on the host use the advertised addresses as is.
 * Only one cluster with exposed listeners can run at a time (the host ports are fixed by the stack).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PodSandbox } from "../harness/pod-runner";
import { renderIsolated, RenderedStack, stackFile } from "../helpers/render";
import { StackConfig } from "../../render/render";
import { assertKafkaFetched, kafkaImage } from "./kafka-home";

export interface KafkaClusterOptions {
    /** Stack name the render sees; default "dev". */
    stack?: string;
    /** Stack config to render; default the repository's `Pulumi.dev.yaml`. */
    config?: StackConfig;
    /** Expose every broker's EXTERNAL listener on 127.0.0.1 at its advertised port; default true. */
    exposeExternal?: boolean;
    /** Bound for each wave (ZooKeeper, then brokers) to turn Ready; default 180 000 ms. */
    readyTimeoutMs?: number;
}

export interface RunningKafkaCluster {
    sandbox: PodSandbox;
    rendered: RenderedStack;
    namespace: string;
    brokers: number;
    zookeeperReplicas: number;
    /** What the brokers advertise on EXTERNAL (`<externalHost>:<externalPorts[i]>`), index = broker.id. */
    externalBootstrap: string[];
    /** The bootstrap Service on INTERNAL, resolvable from `sandbox.runClient` commands. */
    internalBootstrap: string;
    /** Milliseconds from the first pod start until every broker was Ready. */
    startupMs: number;
    brokerPod(id: number): string;
    zookeeperPod(ordinal: number): string;
    /** Stops broker `id`: SIGTERM gives it a controlled shutdown (up to 60 s here), SIGKILL crashes it. */
    killBroker(id: number, signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
    /**
     * Starts broker `id` again (same PVC, new pod IP) and waits until it is Ready; like the kubelet, it starts the
     * container again when it exits (after a SIGKILL, until the old ZooKeeper session has expired).
     */
    restartBroker(id: number): Promise<void>;
    /** Kills every process, removes namespaces and the scratch folder. Idempotent. */
    stop(): Promise<void>;
}

/** Kafka's workloads in a render, with the env each broker pod is given. */
function brokerEnv(rendered: RenderedStack): Record<string, string> {
    const sts = rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "kafka");
    const container = sts?.spec.template.spec.containers.find((c: any) => c.name === "kafka");
    if (!container) {
        throw new Error("the render has no StatefulSet kafka with a container kafka");
    }
    return Object.fromEntries((container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
}

/**
 * The rendered objects as the sandbox runs them. One change, and only this one: ZooKeeper's `metrics-jars` init
 * container is dropped, because its image (the ZooKeeper release, for the Prometheus provider jars) cannot be
 * fetched on this machine. start.sh then starts ZooKeeper without the metrics provider, as it does whenever the
 * jars are absent.
 */
export function sandboxManifests(rendered: RenderedStack): Record<string, any>[] {
    return rendered.manifests.map((m) => {
        if (m.kind !== "StatefulSet" || m.metadata.name !== "zookeeper") {
            return m;
        }
        const copy = JSON.parse(JSON.stringify(m));
        copy.spec.template.spec.initContainers = (copy.spec.template.spec.initContainers ?? []).filter((c: any) => c.name !== "metrics-jars");
        return copy;
    });
}

/** How often a container that exits is started again, as the kubelet's `restartPolicy: Always` would. */
const RESTARTS = 5;

/**
 * Starts a broker pod and waits until it is Ready, starting it again (with the kubelet's growing back-off) when
 * the container exits. A broker killed with SIGKILL leaves its ZooKeeper registration behind until its session
 * expires (zookeeper.session.timeout.ms); a replacement that starts earlier exits on the conflict, and in a cluster
 * the kubelet restarts it until the old registration is gone.
 */
async function startLikeTheKubelet(sandbox: PodSandbox, pod: string, ordinal: number, readyTimeoutMs: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
        await sandbox.startPod("kafka", ordinal);
        try {
            await sandbox.waitReady(pod, "kafka", readyTimeoutMs);
            return;
        } catch (error) {
            if (attempt > RESTARTS || sandbox.isRunning(pod, "kafka")) {
                throw error;
            }
            await sandbox.stopPod(pod, "SIGKILL");
            await new Promise((resolve) => setTimeout(resolve, 5_000 * attempt));
        }
    }
}

export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<RunningKafkaCluster> {
    assertKafkaFetched();
    const stack = options.stack ?? "dev";
    const rendered = await renderIsolated(stack, options.config ?? stackFile("dev"));
    const replicasOf = (name: string) => rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === name)?.spec.replicas as number;
    const brokers = replicasOf("kafka");
    const zookeeperReplicas = replicasOf("zookeeper");
    const namespace: string = rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === "kafka")!.metadata.namespace;
    const env = brokerEnv(rendered);
    const externalPorts = env.KAFKA_EXTERNAL_PORTS.split(",").map(Number);
    const externalBootstrap = externalPorts.map((port) => `${env.KAFKA_EXTERNAL_HOST}:${port}`);
    const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
    const images = Object.fromEntries(
        rendered.manifests.filter((m) => m.kind === "StatefulSet").flatMap((m) => m.spec.template.spec.containers.map((c: any) => c.image))
            .filter((image: string) => image.startsWith("apache/kafka:")).map((image: string) => [image, kafkaImage()]),
    );

    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-kafka-"));
    const sandbox = await PodSandbox.create({ manifests: sandboxManifests(rendered), workDir, images });
    let stopped = false;
    const stop = async () => {
        if (stopped) {
            return;
        }
        stopped = true;
        await sandbox.destroy();
        fs.rmSync(workDir, { recursive: true, force: true });
    };
    const brokerPod = (id: number) => `kafka-${id}`;
    const zookeeperPod = (ordinal: number) => `zookeeper-${ordinal}`;
    const ordinals = (n: number) => [...Array(n).keys()];

    try {
        const started = Date.now();
        // ZooKeeper first: a broker that finds no ZooKeeper within zookeeper.connection.timeout.ms exits, and
        // the sandbox, unlike the kubelet, does not restart it.
        await Promise.all(ordinals(zookeeperReplicas).map((i) => sandbox.startPod("zookeeper", i)));
        await Promise.all(ordinals(zookeeperReplicas).map((i) => sandbox.waitReady(zookeeperPod(i), "zookeeper", readyTimeoutMs)));
        await Promise.all(ordinals(brokers).map((i) => sandbox.startPod("kafka", i)));
        await Promise.all(ordinals(brokers).map((i) => sandbox.waitReady(brokerPod(i), "kafka", readyTimeoutMs)));
        const startupMs = Date.now() - started;
        if (options.exposeExternal ?? true) {
            for (const i of ordinals(brokers)) {
                await sandbox.exposeNodePort(`kafka-${i}-external`, 9094, externalPorts[i], "127.0.0.1");
            }
        }
        return {
            sandbox, rendered, namespace, brokers, zookeeperReplicas, externalBootstrap, startupMs, brokerPod, zookeeperPod, stop,
            internalBootstrap: `kafka.${namespace}.svc.cluster.local:9092`,
            killBroker: (id, signal = "SIGTERM") => sandbox.stopPod(brokerPod(id), signal, { graceMs: 60_000 }),
            restartBroker: (id) => startLikeTheKubelet(sandbox, brokerPod(id), id, readyTimeoutMs),
        };
    } catch (error) {
        await stop();
        throw error;
    }
}
