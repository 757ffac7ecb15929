/**
 * A stack rendered for the test cluster: the ordinary render, with `bss:kafka.image`, `bss:zookeeper.image` and
 * `bss:redis.image` pointed at the local images (scripts/test-cluster/images.env) through the stack's own settings,
 * and only the objects whose images cannot be had here left out, each for the reason given below.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StackConfig } from "../../render/render";
import { RenderedStack, renderIsolated, stackFile } from "./render";
import { LOCAL_IMAGES } from "./test-cluster";
import { JMX_AGENT_JAR, JMX_PATHS } from "../../components/monitoring/jmx";

/** `config` with the local images set in the structured keys, whatever else they hold. */
export function withLocalImages(config: StackConfig): StackConfig {
    const values = { ...config.values };
    const merge = (key: string, fields: Record<string, unknown>) => {
        const current = values[key] === undefined ? {} : JSON.parse(values[key]);
        values[key] = JSON.stringify({ ...current, ...fields });
    };
    merge("bss:kafka", { image: LOCAL_IMAGES.KAFKA_IMAGE });
    // A KRaft stack runs no ZooKeeper, and its settings refuse any bss:zookeeper key.
    if (JSON.parse(values["bss:kafka"]).metadata !== "kraft") {
        merge("bss:zookeeper", { image: LOCAL_IMAGES.KAFKA_IMAGE });
    }
    merge("bss:redis", { image: LOCAL_IMAGES.REDIS_IMAGE });
    return { ...config, values };
}

export async function renderForCluster(stack: string, config: StackConfig = stackFile(stack)): Promise<RenderedStack> {
    return renderIsolated(stack, withLocalImages(config));
}

/** What is left out of a render on the test cluster, and why: none of these images is in a registry reached here. */
export const LEFT_OUT = {
    "Deployment/kafka-exporter": "danielqsj/kafka-exporter is not in the Go module proxy (403), so no image can be built",
    "Deployment/akhq": "tchiotludo/akhq is built from a Gradle/npm project whose release image cannot be assembled here",
    "StatefulSet/redis-cluster container metrics": "oliver006/redis_exporter is not in the Go module proxy (403)",
    "StatefulSet/zookeeper initContainer metrics-jars": "zookeeper-prometheus-metrics is not served by the Maven mirror here",
} as const;

/**
 * A certificate and key for a `kubernetes.io/tls` Secret in place of the render's placeholders (the tls provider,
 * which computes them under Pulumi, does not run here; the API server warns on a certificate that is not PEM):
 * a throwaway self-signed ECDSA P-256 certificate for `commonName`, valid one day.
 */
function throwawayCertificate(commonName: string): { cert: string; key: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-tls-"));
    try {
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", `/CN=${commonName}`, "-keyout", path.join(dir, "tls.key"), "-out", path.join(dir, "tls.crt")], { stdio: "ignore" });
        return { cert: fs.readFileSync(path.join(dir, "tls.crt"), "utf8"), key: fs.readFileSync(path.join(dir, "tls.key"), "utf8") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function withRealCertificate(secret: Record<string, any>): Record<string, any> {
    if (secret.kind !== "Secret" || secret.type !== "kubernetes.io/tls") {
        return secret;
    }
    const { cert, key } = throwawayCertificate(secret.metadata.name);
    return { ...secret, stringData: { ...secret.stringData, "tls.crt": cert, "tls.key": key, "ca.crt": cert } };
}

/** Options of `clusterManifests`. */
export interface ClusterManifestOptions {
    /**
     * Keep the Kafka rebalance Job and its ConfigMap (`kafka-rebalance-<brokers>`). Default false: under Pulumi it runs
     * after the declared topics exist, which applying the manifests alone does not create.
     */
    rebalanceJob?: boolean;
}

/**
 * The render's Kubernetes objects as the test cluster runs them (see LEFT_OUT). Secrets carry their real values
 * (the render's files redact them): set the ones a test needs to know through the stack's secret config.
 */
export function clusterManifests(rendered: RenderedStack, options: ClusterManifestOptions = {}): Record<string, any>[] {
    const secrets = new Map(rendered.resources.filter((r) => r.type === "kubernetes:core/v1:Secret")
        .map((r) => [`${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`, r.inputs]));
    return rendered.manifests
        .map((m) => (m.kind === "Secret" ? secrets.get(`${m.metadata.namespace}/${m.metadata.name}`) ?? m : m))
        .map(withRealCertificate)
        .filter((m) => !(m.kind === "Deployment" && ["kafka-exporter", "akhq"].includes(m.metadata.name)))
        .filter((m) => options.rebalanceJob || !(["Job", "ConfigMap"].includes(m.kind) && /^kafka-rebalance-\d+$/.test(m.metadata?.name ?? "")))
        .map(withBakedJmxAgent)
        .map((m) => {
            if (m.kind !== "StatefulSet" || !["redis-cluster", "zookeeper"].includes(m.metadata.name)) {
                return m;
            }
            const copy = JSON.parse(JSON.stringify(m));
            const pod = copy.spec.template.spec;
            pod.containers = pod.containers.filter((c: any) => c.name !== "metrics");
            pod.initContainers = (pod.initContainers ?? []).filter((c: any) => c.name !== "metrics-jars");
            return copy;
        });
}

/**
 * The `jmx-agent` init container of the brokers and KRaft controllers downloads the pinned agent from a Maven repository, which pods here
 * cannot reach: on the test cluster it copies the same jar (sha256-checked by scripts/monitoring/fetch-jmx-exporter.sh)
 * from the local Kafka image (scripts/test-cluster/images.sh) into the same volume instead.
 */
function withBakedJmxAgent(m: Record<string, any>): Record<string, any> {
    const init = m.kind === "StatefulSet" && ["kafka", "kafka-controller"].includes(m.metadata.name)
        && (m.spec.template.spec.initContainers ?? []).find((c: any) => c.name === "jmx-agent");
    if (!init) {
        return m;
    }
    const copy = JSON.parse(JSON.stringify(m));
    const pod = copy.spec.template.spec;
    pod.initContainers = pod.initContainers.map((c: any) => c.name !== "jmx-agent" ? c : {
        ...c,
        image: LOCAL_IMAGES.KAFKA_IMAGE,
        command: ["cp", `/opt/jmx-exporter/${JMX_AGENT_JAR}`, `${JMX_PATHS.agent}/${JMX_AGENT_JAR}`],
        env: [],
    });
    return copy;
}
