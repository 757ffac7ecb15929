import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { AKHQ_UID, buildAkhqObjects } from "../../components/akhq/objects";
import { AkhqSettings } from "../../settings/akhq";
import { loadSettings } from "../../settings";

type Obj = Record<string, any>;

const settingsFor = (environment: "dev" | "prod", akhq: Obj = {}): AkhqSettings =>
    loadSettings({ "bss:environment": environment, "bss:akhq": JSON.stringify(akhq) }, environment).akhq;

const credentials = { yaml: "credentials text", checksum: "0123456789abcdef" };
const build = (environment: "dev" | "prod", akhq: Obj = {}) =>
    buildAkhqObjects("bss", settingsFor(environment, akhq), environment === "prod" ? credentials : undefined);

const containerOf = (objects: ReturnType<typeof build>): Obj => (objects.deployment.spec as Obj).template.spec.containers[0];
const podOf = (objects: ReturnType<typeof build>): Obj => (objects.deployment.spec as Obj).template.spec;
const envOf = (objects: ReturnType<typeof build>): Record<string, string> =>
    Object.fromEntries(containerOf(objects).env.map((e: Obj) => [e.name, e.value]));

describe("AKHQ Deployment", () => {
    it("runs one replica of the pinned image", () => {
        const objects = build("prod");
        expect((objects.deployment.spec as Obj).replicas).toBe(1);
        expect(containerOf(objects).image).toBe("tchiotludo/akhq:0.25.1");
        expect((objects.deployment.metadata as Obj)).toMatchObject({ name: "akhq", namespace: "bss" });
    });

    it("probes <context>/health on the management port, with a startup window for the JVM", () => {
        for (const contextPath of ["/akhq", "/kafka-ui"]) {
            const container = containerOf(build("prod", { contextPath }));
            expect(container.ports).toEqual([{ name: "http", containerPort: 8080 }, { name: "management", containerPort: 28081 }]);
            for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
                expect(container[probe].httpGet).toEqual({ path: `${contextPath}/health`, port: "management" });
            }
            const startup = container.startupProbe;
            const startupWindow = startup.initialDelaySeconds + startup.periodSeconds * startup.failureThreshold;
            expect(startupWindow).toBeGreaterThanOrEqual(120);
            // Liveness only counts once the startup probe passed; a restart needs a minute of failures.
            expect(container.livenessProbe.periodSeconds * container.livenessProbe.failureThreshold).toBeGreaterThanOrEqual(60);
        }
    });

    it("announces the Prometheus endpoint of the management port", () => {
        const annotations = (build("prod", { contextPath: "/kafka-ui" }).deployment.spec as Obj).template.metadata.annotations;
        expect(annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "28081", "prometheus.io/path": "/kafka-ui/prometheus" });
    });

    it("keeps the 512Mi limit, requests CPU and bounds the heap through JAVA_OPTS", () => {
        const objects = build("prod");
        expect(containerOf(objects).resources).toEqual({ requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } });
        expect(envOf(objects).JAVA_OPTS).toContain("-XX:MaxRAMPercentage=50.0");
    });

    it("runs non-root without privileges on a read-only root with a writable /tmp", () => {
        const objects = build("prod");
        const pod = podOf(objects);
        const container = containerOf(objects);
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: AKHQ_UID, seccompProfile: { type: "RuntimeDefault" } });
        expect(container.securityContext).toMatchObject({
            allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, seccompProfile: { type: "RuntimeDefault" },
        });
        const tmp = container.volumeMounts.find((m: Obj) => m.mountPath === "/tmp");
        expect(pod.volumes.find((v: Obj) => v.name === tmp.name).emptyDir).toBeDefined();
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.enableServiceLinks).toBe(false);
    });

    it("runs as the image's own akhq user, uid and gid 1000", () => {
        // tchiotludo/akhq Dockerfile: FROM eclipse-temurin:17-jre, RUN useradd -ms /bin/bash akhq, USER akhq.
        // adoptium/containers 17/jre/ubuntu/jammy/Dockerfile: FROM ubuntu:22.04 and no user of its own, so useradd
        // picks UID_MIN 1000 and a user-private group 1000; 0.25.1 was built before the tag moved to noble.
        const pod = podOf(build("prod"));
        expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 });
    });

    it("mounts application.yml and jvm.options from the ConfigMap with subPath, not over /app", () => {
        const objects = build("dev");
        const mounts = containerOf(objects).volumeMounts;
        expect(mounts).toContainEqual({ name: "config", mountPath: "/app/application.yml", subPath: "application.yml", readOnly: true });
        expect(mounts).toContainEqual({ name: "config", mountPath: "/app/jvm.options", subPath: "jvm.options", readOnly: true });
        expect(mounts.some((m: Obj) => m.mountPath === "/app")).toBe(false);
        expect(podOf(objects).volumes).toContainEqual({ name: "config", configMap: { name: "akhq-config" } });
        expect(Object.keys(objects.config.data as Obj).sort()).toEqual(["application.yml", "jvm.options"]);
        expect(envOf(objects).MICRONAUT_CONFIG_FILES).toBe("/app/application.yml");
    });

    it("ships a jvm.options without memory flags, which would override JAVA_OPTS (the launcher appends the file)", () => {
        const lines = ((build("dev").config.data as Obj)["jvm.options"] as string).split("\n").filter((l) => l.startsWith("-"));
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.filter((l) => /^-Xm[sx]|RAM|Heap|DirectMemory|Metaspace/.test(l))).toEqual([]);
    });

    it("adds the credentials file from a Secret only when login is on", () => {
        const prod = build("prod");
        expect(prod.credentials).toMatchObject({ metadata: { name: "akhq-credentials", namespace: "bss" }, stringData: { "credentials.yml": "credentials text" } });
        expect(containerOf(prod).volumeMounts).toContainEqual({ name: "credentials", mountPath: "/app/credentials.yml", subPath: "credentials.yml", readOnly: true });
        expect(podOf(prod).volumes).toContainEqual({ name: "credentials", secret: { secretName: "akhq-credentials", defaultMode: 0o440 } });
        expect(envOf(prod).MICRONAUT_CONFIG_FILES).toBe("/app/application.yml,/app/credentials.yml");
        expect((prod.deployment.spec as Obj).template.metadata.annotations["bss/credentials-checksum"]).toBe(credentials.checksum);

        const dev = build("dev");
        expect(dev.credentials).toBeUndefined();
        expect(containerOf(dev).volumeMounts.map((m: Obj) => m.name)).not.toContain("credentials");
        expect((dev.deployment.spec as Obj).template.metadata.annotations["bss/credentials-checksum"]).toBeUndefined();
    });

    it("refuses credentials that do not match the auth setting", () => {
        expect(() => buildAkhqObjects("bss", settingsFor("prod"), undefined)).toThrow(/authEnabled true/);
        expect(() => buildAkhqObjects("bss", settingsFor("dev"), credentials)).toThrow(/authEnabled false/);
    });

    it("rolls the pod when the rendered configuration changes", () => {
        const checksumOf = (objects: ReturnType<typeof build>) => (objects.deployment.spec as Obj).template.metadata.annotations["bss/config-checksum"];
        expect(checksumOf(build("prod"))).toBe(checksumOf(build("prod")));
        expect(checksumOf(build("prod", { contextPath: "/kafka-ui" }))).not.toBe(checksumOf(build("prod")));
    });

    it("renders the settings' auth choice into the ConfigMap", () => {
        const enabled = (objects: ReturnType<typeof build>) => (yaml.load((objects.config.data as Obj)["application.yml"]) as Obj).micronaut.security.enabled;
        expect(enabled(build("prod"))).toBe(true);
        expect(enabled(build("dev"))).toBe(false);
    });
});

describe("AKHQ Service", () => {
    it("is the NodePort Service akhq on 8080 that kind maps to host port 8083 in dev", () => {
        const service = build("dev").service;
        expect(service.metadata).toMatchObject({ name: "akhq", namespace: "bss" });
        expect(service.spec).toMatchObject({ type: "NodePort", ports: [{ name: "http", port: 8080, targetPort: "http", nodePort: 30083 }] });
        expect((build("dev", { nodePort: 31083 }).service.spec as Obj).ports[0].nodePort).toBe(31083);
    });

    it("is bound to the host's loopback by kind in dev, where every visitor is AKHQ's admin", () => {
        // kind/cluster.yaml: extraPortMappings[].listenAddress decides which host address forwards to the nodePort.
        const cluster = yaml.load(fs.readFileSync(path.join(__dirname, "..", "..", "kind", "cluster.yaml"), "utf8")) as Obj;
        const nodePort = (build("dev").service.spec as Obj).ports[0].nodePort;
        const mappings = (cluster.nodes as Obj[]).flatMap((n) => n.extraPortMappings ?? []).filter((m: Obj) => m.containerPort === nodePort);
        expect(mappings).toEqual([{ containerPort: nodePort, hostPort: 8083, listenAddress: "127.0.0.1", protocol: "TCP" }]);
        expect((yaml.load((build("dev").config.data as Obj)["application.yml"]) as Obj).akhq.security["default-group"]).toBe("admin");
    });

    it("is reachable only inside the cluster (through Kong's /akhq) outside dev", () => {
        const spec = build("prod").service.spec as Obj;
        expect(spec.type).toBe("ClusterIP");
        expect(spec.ports).toEqual([{ name: "http", port: 8080, targetPort: "http" }]);
        expect((build("prod", { serviceType: "NodePort" }).service.spec as Obj).ports[0].nodePort).toBe(30083);
    });
});
