import { loadSettings } from "../../settings";
import { bssPolicies, imagePinProblem, isReference, policyContext, PolicyContext, STACK_TYPE, StackResource } from "../../policy/rules";
import { stackViolations, urnOf, violations } from "./policy-args";

/** What the pack's server does to every resource before a policy sees it: unknown values throw when read. */
const { unknownCheckingProxy, unknownStringValue } = require("@pulumi/policy/proxy") as { unknownCheckingProxy: <T>(o: T) => T; unknownStringValue: string };

type Obj = Record<string, any>;

const CONFIG_SECRET = "configsecretvalue0123456789";
const GENERATED = "generatedpassword0123456789";
const DIGEST = `sha256:${"ab12".repeat(16)}`;

const CONTEXT: PolicyContext = {
    exposedPorts: [
        { port: 30092, type: "NodePort", key: "bss:kafka.nodePortBase (broker 0)" },
        { port: 30800, type: "LoadBalancer", key: "bss:kong.proxyHttpNodePort" },
    ],
    configSecrets: [CONFIG_SECRET],
};
const policies = bssPolicies(CONTEXT);

const STS = "kubernetes:apps/v1:StatefulSet";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const SERVICE = "kubernetes:core/v1:Service";
const CHART = "kubernetes:helm.sh/v4:Chart";

function container(name: string, image: string): Obj {
    return {
        name,
        image,
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    };
}

/** A workload every pod rule accepts; cases change one thing in a copy. */
function workload(change: (spec: Obj) => void = () => undefined): Obj {
    const spec: Obj = {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [container("init", `busybox@${DIGEST}`)],
        containers: [container("app", "redis:7.2.16"), container("exporter", "oliver006/redis_exporter:v1.91.1")],
        volumes: [{ name: "tmp", emptyDir: {} }],
    };
    change(spec);
    return { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "demo" }, spec: { template: { metadata: { labels: { app: "demo" } }, spec } } };
}

describe("pinned-images", () => {
    it("accepts patch tags and digests in containers and init containers", async () => {
        expect(await violations(policies, "pinned-images", STS, workload())).toEqual([]);
    });

    it.each([
        ["redis", "has no tag"],
        ["redis:latest", "tag \"latest\" does not name one patch release"],
        ["kong:3.9", "tag \"3.9\" does not name one patch release"],
        ["registry.local:5000/bss/kafka", "has no tag"],
        ["redis@sha256:abc", "malformed digest"],
    ])("refuses %s", async (image, problem) => {
        const found = await violations(policies, "pinned-images", STS, workload((spec) => { spec.containers[0].image = image; }));
        expect(found).toEqual([expect.stringContaining(`container "app": image "${image}"`)]);
        expect(found[0]).toContain(problem);
    });

    it("checks init containers and CronJob templates", async () => {
        const bad = workload((spec) => { spec.initContainers[0].image = "busybox:latest"; });
        expect(await violations(policies, "pinned-images", STS, bad)).toEqual([expect.stringContaining("init container \"init\"")]);
        const cron = { spec: { jobTemplate: { spec: { template: bad.spec.template } } } };
        expect(await violations(policies, "pinned-images", CRONJOB, cron)).toHaveLength(1);
    });

    it("checks a Helm chart's values.image, a digest in the tag included", async () => {
        const chart = (tag: string) => ({ chart: "kong", skipCrds: true, values: { image: { repository: "kong", tag } } });
        expect(await violations(policies, "pinned-images", CHART, chart("3.9.3"))).toEqual([]);
        expect(await violations(policies, "pinned-images", CHART, chart(DIGEST))).toEqual([]);
        expect(await violations(policies, "pinned-images", CHART, chart("3.9"))).toEqual([expect.stringContaining("chart values: image \"kong:3.9\"")]);
    });

    it("names what a tag may look like", () => {
        expect(imagePinProblem("apache/kafka:3.9.2")).toBeUndefined();
        expect(imagePinProblem("danielqsj/kafka-exporter:v1.9.0")).toBeUndefined();
        expect(imagePinProblem("redis:7.2.16-alpine")).toBeUndefined();
        expect(imagePinProblem(undefined)).toBe("has no image");
    });
});

describe("restricted-pod-security", () => {
    it("accepts a restricted workload", async () => {
        expect(await violations(policies, "restricted-pod-security", STS, workload())).toEqual([]);
    });

    it("reports each restricted control a workload breaks, host namespaces, ports and paths included", async () => {
        const found = await violations(policies, "restricted-pod-security", DEPLOYMENT, workload((spec) => {
            spec.hostNetwork = true;
            spec.containers[0].ports = [{ containerPort: 6379, hostPort: 6379 }];
            spec.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
            delete spec.containers[1].securityContext.allowPrivilegeEscalation;
            spec.initContainers[0].securityContext.capabilities = { drop: [] };
        }));
        expect(found).toEqual(expect.arrayContaining([
            "hostNetwork must not be true (host namespaces)",
            "container \"app\": hostPort 6379 must not be set (port 6379)",
            expect.stringContaining("volume \"docker\" uses hostPath"),
            "container \"exporter\": allowPrivilegeEscalation must be false",
            "init container \"init\": capabilities.drop must include ALL",
        ]));
        expect(found).toHaveLength(5);
    });

    it("ignores resources without pods", async () => {
        expect(await violations(policies, "restricted-pod-security", CONFIGMAP, { data: {} })).toEqual([]);
    });
});

describe("container-resources", () => {
    it("accepts CPU and memory requests with a memory limit on every container", async () => {
        expect(await violations(policies, "container-resources", STS, workload())).toEqual([]);
    });

    it("reports a missing memory limit on an init container and a missing CPU request", async () => {
        const found = await violations(policies, "container-resources", STS, workload((spec) => {
            delete spec.initContainers[0].resources.limits;
            delete spec.containers[1].resources.requests.cpu;
        }));
        expect(found).toEqual([
            "init container \"init\" has no resources.limits.memory",
            "container \"exporter\" has no resources.requests.cpu",
        ]);
    });

    it("reports a container with no resources at all", async () => {
        const found = await violations(policies, "container-resources", STS, workload((spec) => { delete spec.containers[0].resources; }));
        expect(found).toEqual(["container \"app\" has no resources.requests.cpu, resources.requests.memory, resources.limits.memory"]);
    });
});

describe("configmap-holds-no-secret", () => {
    const configMap = (data: Record<string, string>, binaryData?: Record<string, string>) => ({ metadata: { name: "demo" }, data, ...(binaryData ? { binaryData } : {}) });

    it("accepts config files and scripts that reference secrets instead of holding them", async () => {
        const found = await violations(policies, "configmap-holds-no-secret", CONFIGMAP, configMap({
            "start.sh": [
                "#!/bin/sh",
                "# The password reaches redis-server through a runtime include.",
                ': "${REDIS_PASSWORD:?REDIS_PASSWORD must be set}"',
                'export REDISCLI_AUTH="$REDIS_PASSWORD"',
                "printf 'requirepass %s\\n' \"$(conf_string \"$REDIS_PASSWORD\")\"",
                'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 7000 ping',
            ].join("\n"),
            "application.yml": "akhq:\n  security:\n    basic-auth:\n      - username: admin\n        password: ${AKHQ_ADMIN_PASSWORD}\n",
            "server.properties": "ssl.keystore.password.file=/etc/kafka/secrets/keystore-password\nlisteners=INTERNAL://:9092\n",
        }));
        expect(found).toEqual([]);
    });

    it.each<[string, Record<string, string>, string]>([
        ["a credential-named key", { "redis-password": "x" }, "key \"redis-password\" is named like a credential"],
        ["a redis.conf literal", { "redis.conf": "port 7000\nrequirepass hunter2hunter2\n" }, "data \"redis.conf\" line 2 sets \"requirepass\" to a literal value"],
        ["a properties literal", { "server.properties": "ssl.keystore.password=changeit\n" }, "line 1 sets \"ssl.keystore.password\" to a literal value"],
        ["a YAML literal", { "application.yml": "basic-auth:\n  - username: admin\n    password: \"s3cr3t-value\"\n" }, "line 3 sets \"password\" to a literal value"],
        ["a JAAS literal", { "client.properties": "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p4ss\";\n" }, "line 1 sets \"password\" to a literal value"],
        ["a shell literal", { "probe.sh": "REDISCLI_AUTH=hunter2 redis-cli ping\n" }, "sets \"REDISCLI_AUTH\" to a literal value"],
        ["a private key", { "tls.key": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n" }, "data \"tls.key\" holds a PEM private key"],
        ["a secret config value", { "notes.txt": `the key is ${CONFIG_SECRET}` }, "data \"notes.txt\" holds the value of a secret"],
    ])("refuses %s", async (_what, data, expected) => {
        const found = await violations(policies, "configmap-holds-no-secret", CONFIGMAP, configMap(data));
        expect(found).toEqual([expect.stringContaining(expected)]);
        expect(found.join("\n")).not.toMatch(/hunter2|changeit|s3cr3t|p4ss/);
    });

    it("decodes binaryData before looking", async () => {
        const found = await violations(policies, "configmap-holds-no-secret", CONFIGMAP, configMap({}, { "blob": Buffer.from(`x${CONFIG_SECRET}x`).toString("base64") }));
        expect(found).toEqual([expect.stringContaining("binaryData \"blob\" holds the value of a secret")]);
    });

    it("leaves Secrets alone: that is where credentials belong", async () => {
        expect(await violations(policies, "configmap-holds-no-secret", "kubernetes:core/v1:Secret", { stringData: { password: CONFIG_SECRET } })).toEqual([]);
    });

    it("tells references from literals", () => {
        for (const reference of ["", '""', "$REDIS_PASSWORD", '"${AKHQ_PASSWORD}"', "%s", "/run/secrets/password", "|", "{}", "null"]) {
            expect([reference, isReference(reference)]).toEqual([reference, true]);
        }
        for (const literal of ["hunter2", '"changeit";', "'p'"]) {
            expect([literal, isReference(literal)]).toEqual([literal, false]);
        }
    });
});

describe("secrets-stay-secret", () => {
    function stack(outputs: Obj, extra: StackResource[] = []): StackResource[] {
        return [
            { type: "random:index/randomPassword:RandomPassword", name: "redis-password", props: { length: 32, result: GENERATED } },
            { type: "kubernetes:core/v1:Secret", name: "redis-auth", props: { stringData: { password: GENERATED } } },
            { type: CONFIGMAP, name: "redis-config", props: { data: { "redis.conf": "port 7000\n" } } },
            ...extra,
            { type: STACK_TYPE, name: "bss-test", props: outputs },
        ];
    }

    it("accepts secrets in credential-named outputs and nowhere else", async () => {
        const found = await stackViolations(policies, "secrets-stay-secret", stack({
            redisPassword: GENERATED,
            kongApiKeys: { "bss-frontend": CONFIG_SECRET },
            kongOperatorCredentials: { username: "operator", password: GENERATED },
            redisAddress: "redis-cluster.bss.svc.cluster.local:7000",
            akhqAdminPassword: undefined,
        }));
        expect(found).toEqual([]);
    });

    it("reports a generated password in a plain output, against the stack", async () => {
        const found = await stackViolations(policies, "secrets-stay-secret", stack({ redisAddress: `redis://:${GENERATED}@redis:7000` }));
        expect(found).toEqual([{ message: expect.stringContaining("stack output \"redisAddress\" holds a secret value in plain text"), urn: urnOf(STACK_TYPE, "bss-test") }]);
        expect(found[0].message).not.toContain(GENERATED);
    });

    it("reports a secret config value nested in a plain output", async () => {
        const found = await stackViolations(policies, "secrets-stay-secret", stack({ kongSettings: { consumers: [{ key: CONFIG_SECRET }] } }));
        expect(found.map((f) => f.message)).toEqual([expect.stringContaining("stack output \"kongSettings\"")]);
    });

    it("reports a ConfigMap holding a Secret's credential (base64 data too), against that ConfigMap", async () => {
        const leaked = "fromsecretdata0123456789";
        const found = await stackViolations(policies, "secrets-stay-secret", stack({}, [
            { type: "kubernetes:core/v1:Secret", name: "kafka-auth", props: { data: { "admin-password": Buffer.from(leaked).toString("base64") } } },
            { type: CONFIGMAP, name: "kafka-config", props: { data: { "client.conf": `secret=${leaked}` } } },
        ]));
        expect(found).toEqual([{ message: expect.stringContaining("ConfigMap data \"client.conf\" holds a secret value"), urn: urnOf(CONFIGMAP, "kafka-config") }]);
    });

    it("ignores a Secret's non-credential keys and values too short to tell apart", async () => {
        const found = await stackViolations(policies, "secrets-stay-secret", stack({ kafkaExternalBootstrap: "kafka.bss.example.com:9092", namespaceName: "bss" }, [
            { type: "kubernetes:core/v1:Secret", name: "kong-config", props: { stringData: { "kong.yml": "kafka.bss.example.com:9092" } } },
            { type: "random:index/randomPassword:RandomPassword", name: "short", props: { result: "bss" } },
        ]));
        expect(found).toEqual([]);
    });
});

describe("values unknown during a preview", () => {
    it("judge a pod without reading its other annotations (config checksums)", async () => {
        const props = workload();
        props.spec.template.metadata.annotations = { "bss/config-checksum": unknownStringValue };
        expect(await violations(policies, "restricted-pod-security", STS, unknownCheckingProxy(props))).toEqual([]);
    });

    it("leave the secrets check to what is known: an unknown password, output or ConfigMap is skipped, a known leak still found", async () => {
        const resources: StackResource[] = [
            { type: "random:index/randomPassword:RandomPassword", name: "new-password", props: { length: 32, result: unknownStringValue } },
            { type: "random:index/randomPassword:RandomPassword", name: "old-password", props: { length: 32, result: GENERATED } },
            { type: CONFIGMAP, name: "pending", props: { data: unknownStringValue } },
            { type: STACK_TYPE, name: "bss-test", props: { akhqUrl: unknownStringValue, redisAddress: `redis://:${GENERATED}@redis:7000` } },
        ].map((r) => ({ ...r, props: unknownCheckingProxy(r.props) }));
        const found = await stackViolations(policies, "secrets-stay-secret", resources);
        expect(found.map((f) => f.message)).toEqual([expect.stringContaining("stack output \"redisAddress\"")]);
    });
});

describe("services-exposed-only-as-configured", () => {
    const service = (spec: Obj) => ({ metadata: { name: "demo" }, spec: { ports: [{ port: 80 }], ...spec } });

    it("accepts ClusterIP, headless and the node ports the settings claim with their type", async () => {
        expect(await violations(policies, "services-exposed-only-as-configured", SERVICE, service({}))).toEqual([]);
        expect(await violations(policies, "services-exposed-only-as-configured", SERVICE, service({ clusterIP: "None" }))).toEqual([]);
        expect(await violations(policies, "services-exposed-only-as-configured", SERVICE, service({ type: "NodePort", ports: [{ port: 9094, nodePort: 30092 }] }))).toEqual([]);
        expect(await violations(policies, "services-exposed-only-as-configured", SERVICE, service({ type: "LoadBalancer", ports: [{ port: 80, nodePort: 30800 }] }))).toEqual([]);
    });

    it.each<[string, Obj, string]>([
        ["an unclaimed node port", { type: "NodePort", ports: [{ port: 6379, nodePort: 30379 }] }, "NodePort on nodePort 30379, which no setting asks for"],
        ["a random node port", { type: "NodePort", ports: [{ port: 6379 }] }, "NodePort port 6379 has no fixed nodePort"],
        ["a LoadBalancer where the settings ask for a NodePort", { type: "LoadBalancer", ports: [{ port: 9094, nodePort: 30092 }] }, "is a LoadBalancer, but bss:kafka.nodePortBase (broker 0) asks for a NodePort on nodePort 30092"],
        ["a NodePort where the settings ask for a LoadBalancer", { type: "NodePort", ports: [{ port: 80, nodePort: 30800 }] }, "is a NodePort, but bss:kong.proxyHttpNodePort asks for a LoadBalancer"],
        ["externalIPs", { externalIPs: ["192.0.2.10"] }, "externalIPs 192.0.2.10 expose it"],
    ])("refuses %s", async (_what, spec, expected) => {
        expect(await violations(policies, "services-exposed-only-as-configured", SERVICE, service(spec))).toEqual([expect.stringContaining(expected)]);
    });
});

describe("helm-charts-skip-crds", () => {
    it("accepts a chart with skipCrds: true", async () => {
        expect(await violations(policies, "helm-charts-skip-crds", CHART, { chart: "kong", skipCrds: true })).toEqual([]);
    });

    it("refuses a v4 Chart or v3 Release that would install CRDs, and any CRD", async () => {
        expect(await violations(policies, "helm-charts-skip-crds", CHART, { chart: "kong" })).toEqual(["chart \"kong\" is installed without skipCrds: true, so its CRDs would become part of this stack"]);
        expect(await violations(policies, "helm-charts-skip-crds", "kubernetes:helm.sh/v3:Release", { chart: "kong", skipCrds: false })).toHaveLength(1);
        expect(await violations(policies, "helm-charts-skip-crds", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", { metadata: { name: "kongplugins.configuration.konghq.com" } }))
            .toEqual(["CustomResourceDefinition \"kongplugins.configuration.konghq.com\" is cluster-scoped and shared: this stack must not own one"]);
    });
});

describe("policyContext", () => {
    const raw = (values: Record<string, unknown>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));

    it("exposes exactly the node ports the settings claim, the Kong proxy as the type they ask for", () => {
        const settings = loadSettings(raw({ "bss:environment": "prod", "bss:kafka": { brokers: 2 }, "bss:redis": { hostAccess: true, nodePort: 31700 } }), "test");
        const exposed = policyContext(settings).exposedPorts;
        expect(exposed.filter((e) => e.type === "LoadBalancer").map((e) => e.port).sort()).toEqual([30800, 30843]);
        expect(exposed.filter((e) => e.type === "NodePort").map((e) => e.port)).toEqual(expect.arrayContaining([30092, 30093, 31700]));
        expect(exposed.map((e) => e.port)).not.toContain(30094);
    });

    it("keeps ClusterIP-only settings unexposed", () => {
        const settings = loadSettings(raw({ "bss:kong": { proxyServiceType: "ClusterIP" } }), "test");
        expect(policyContext(settings).exposedPorts.map((e) => e.port)).not.toContain(30800);
    });

    it("collects the values of the secret config keys", () => {
        const key = "A".repeat(30);
        const settings = loadSettings(raw({ "bss:redisPassword": "redispassword-0123456789", "bss:kongApiKeys": { "bss-partner": key } }), "test", new Set(["bss:redisPassword", "bss:kongApiKeys"]));
        expect(policyContext(settings).configSecrets.sort()).toEqual([key, "redispassword-0123456789"]);
    });
});
