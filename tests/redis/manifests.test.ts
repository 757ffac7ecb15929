import { loadSettings } from "../../settings";
import { RedisSettings } from "../../settings/redis";
import { shippedScripts } from "../../components/redis";
import {
    bootstrapJob, clientService, clusterPeers, configChecksum, configMap, disruptionBudget, externalService, HANDOVER_TIMEOUT_SECONDS, headlessService,
    NAMES, podCount, RedisClusterSpec, statefulSet,
} from "../../components/redis/manifests";

function spec(redis: Record<string, unknown>, environment = "prod", namespace = "bss"): RedisClusterSpec {
    const settings: RedisSettings = loadSettings({ "bss:environment": environment, "bss:redis": JSON.stringify(redis) }, "test").redis;
    return { namespace, settings, scripts: shippedScripts() };
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.each([
    ["dev", {}, 1],
    ["prod", {}, 6],
    ["prod", { masters: 3, replicasPerMaster: 2 }, 9],
    ["prod", { masters: 5, replicasPerMaster: 1 }, 10],
])("%s shape %j", (environment, redis, pods) => {
    const s = spec(redis, environment);

    it(`runs masters x (1 + replicasPerMaster) = ${pods} pods`, () => {
        expect(podCount(s.settings)).toBe(pods);
        expect((statefulSet(s) as any).spec.replicas).toBe(pods);
        expect(clusterPeers("bss", s.settings)).toHaveLength(pods);
    });

    it("gives the bootstrap the same peers and shape", () => {
        const env = Object.fromEntries((bootstrapJob(s) as any).spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
        expect(env.CLUSTER_PEERS.split(" ")).toEqual(clusterPeers("bss", s.settings));
        expect(Number(env.CLUSTER_MASTERS) * (1 + Number(env.CLUSTER_REPLICAS_PER_MASTER))).toBe(pods);
    });

    it("gives the nodes the peers as a file of the config ConfigMap (the kubelet refreshes it), not in their template", () => {
        const redis = (statefulSet(s) as any).spec.template.spec.containers.find((c: any) => c.name === "redis");
        const file = redis.env.find((e: any) => e.name === "CLUSTER_PEERS_FILE").value;
        expect(file).toBe("/usr/local/etc/redis/peers");
        expect(redis.volumeMounts).toContainEqual({ name: "config", mountPath: "/usr/local/etc/redis", readOnly: true });
        expect((configMap(s) as any).data.peers.split("\n")).toEqual(clusterPeers("bss", s.settings));
        expect(redis.env.map((e: any) => e.name)).not.toContain("CLUSTER_PEERS");
    });

    it(pods > 1 ? "limits voluntary disruptions to one node at a time" : "has no disruption budget (it would block node drains)", () => {
        const pdb = disruptionBudget(s);
        if (pods > 1) {
            expect(pdb!.spec).toEqual({ maxUnavailable: 1, selector: (statefulSet(s) as any).spec.selector });
        } else {
            expect(pdb).toBeUndefined();
        }
    });
});

describe("node pods", () => {
    const s = spec({});
    const sts = statefulSet(s) as any;
    const pod = sts.spec.template.spec;
    const [redis, metrics] = pod.containers;

    it("start together and are found by DNS before they are ready, so formation cannot deadlock", () => {
        expect(sts.spec.podManagementPolicy).toBe("Parallel");
        expect(sts.spec.serviceName).toBe(NAMES.headlessService);
        expect(headlessService(s).spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    });

    it("name every peer by its stable headless DNS name", () => {
        expect(clusterPeers("telco", s.settings)).toEqual([
            "redis-cluster-0.redis-cluster-headless.telco.svc.cluster.local",
            "redis-cluster-1.redis-cluster-headless.telco.svc.cluster.local",
            "redis-cluster-2.redis-cluster-headless.telco.svc.cluster.local",
            "redis-cluster-3.redis-cluster-headless.telco.svc.cluster.local",
            "redis-cluster-4.redis-cluster-headless.telco.svc.cluster.local",
            "redis-cluster-5.redis-cluster-headless.telco.svc.cluster.local",
        ]);
    });

    it("announce the pod IP from the downward API and get the password only from the Secret", () => {
        const env = new Map(redis.env.map((e: any) => [e.name, e]));
        expect(env.get("POD_IP")).toEqual({ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } });
        for (const container of [redis, metrics]) {
            const password = container.env.find((e: any) => e.name === "REDIS_PASSWORD");
            expect(password).toEqual({ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: NAMES.secret, key: "password" } } });
        }
    });

    it("probe readiness (cluster_state:ok) and liveness (PING) with the shipped probe script", () => {
        expect(redis.readinessProbe.exec.command).toEqual(["/opt/redis-cluster/probe.sh", "readiness"]);
        expect(redis.livenessProbe.exec.command).toEqual(["/opt/redis-cluster/probe.sh", "liveness"]);
        expect(redis.command).toEqual(["/opt/redis-cluster/start.sh"]);
        expect(pod.volumes.find((v: any) => v.name === "scripts").configMap.defaultMode).toBe(0o755);
    });

    it("run non-root with a restricted security context, requests and limits", () => {
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: "RuntimeDefault" } });
        for (const container of [redis, metrics]) {
            expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true });
            expect(container.resources.requests).toBeDefined();
            expect(container.resources.limits).toBeDefined();
        }
        expect(redis.resources).toEqual(s.settings.resources);
    });

    it("keep data on a PVC and write the runtime include to an emptyDir (the root file system is read-only)", () => {
        expect(sts.spec.volumeClaimTemplates[0]).toMatchObject({ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: s.settings.storageSize } } } });
        expect(redis.volumeMounts).toEqual(expect.arrayContaining([{ name: "data", mountPath: "/data" }, { name: "runtime", mountPath: "/run/redis" }]));
    });

    it("carry a redis_exporter sidecar with scrape annotations", () => {
        expect(metrics.image).toBe(s.settings.exporterImage);
        expect(metrics.ports).toEqual([{ name: "metrics", containerPort: 9121, protocol: "TCP" }]);
        expect(sts.spec.template.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "9121", "prometheus.io/path": "/metrics" });
    });

    it("spread over nodes with at most one pod more on any node (a condition in prod, a preference in dev) and over zones as a preference, with no anti-affinity that would need one node per pod", () => {
        expect(pod.affinity).toBeUndefined();
        const selector = { matchLabels: sts.spec.selector.matchLabels };
        expect(pod.topologySpreadConstraints).toEqual([
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: selector },
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: selector },
        ]);
        const dev = statefulSet(spec({}, "dev")) as any;
        expect(dev.spec.template.spec.topologySpreadConstraints.map((c: any) => c.whenUnsatisfiable)).toEqual(["ScheduleAnyway", "ScheduleAnyway"]);
        expect(matches(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels)).toBe(true);
    });

    it("hand a master's slots to its replica before stopping (preStop), bounded well inside the grace period", () => {
        expect(redis.lifecycle).toEqual({ preStop: { exec: { command: ["/opt/redis-cluster/handover.sh"] } } });
        const bound = Number(redis.env.find((e: any) => e.name === "HANDOVER_TIMEOUT_SECONDS").value);
        expect(bound).toBe(HANDOVER_TIMEOUT_SECONDS);
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(bound + 10);
        expect(Object.keys(s.scripts)).toContain("handover.sh");
        expect(redis.env.map((e: any) => e.name)).toContain("REDIS_RUNTIME_DIR");
    });

    it("know the Kubernetes node they run on (downward API), for the bootstrap's pairing", () => {
        expect(redis.env).toContainEqual({ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
        expect(Object.keys(s.scripts)).toContain("pairing.awk");
    });

    it("keep the same template when the count changes (scaling adds or removes pods without restarting the others), while the bootstrap Job's changes (a new shape reruns it)", () => {
        const template = (settings: Record<string, unknown>) => JSON.stringify((statefulSet(spec(settings)) as any).spec.template);
        const job = (settings: Record<string, unknown>) => JSON.stringify((bootstrapJob(spec(settings)) as any).spec.template);
        expect(template({ masters: 4 })).toBe(template({}));
        expect(template({ replicasPerMaster: 2 })).toBe(template({}));
        expect(job({ masters: 4 })).not.toBe(job({}));
        expect(job({ replicasPerMaster: 2 })).not.toBe(job({}));
        expect((statefulSet(spec({ masters: 4 })) as any).spec.replicas).toBe(8);
    });

    it("roll when redis.conf or a script changes", () => {
        const base = configChecksum(s);
        expect(configChecksum(spec({ maxmemoryPolicy: "noeviction" }))).not.toBe(base);
        expect(configChecksum({ ...s, scripts: { ...s.scripts, "start.sh": s.scripts["start.sh"] + "\n" } })).not.toBe(base);
        expect(sts.spec.template.metadata.annotations["bss/config-checksum"]).toBe(base);
    });
});

describe("Services", () => {
    const s = spec({ nodePort: 31700 });
    const nodeLabels = (statefulSet(s) as any).spec.template.metadata.labels;
    const jobLabels = (bootstrapJob(s) as any).spec.template.metadata.labels;

    it.each([
        ["headless", headlessService(s)],
        ["client", clientService(s)],
        ["external", externalService(s)],
    ])("%s selects the nodes and never the bootstrap pod", (_name, service: any) => {
        expect(matches(service.spec.selector, nodeLabels)).toBe(true);
        expect(matches(service.spec.selector, jobLabels)).toBe(false);
    });

    it("expose 7000 in the cluster and the configured nodePort outside", () => {
        expect((clientService(s) as any).spec.ports).toEqual([{ name: "client", port: 7000, targetPort: "client", protocol: "TCP" }]);
        expect((externalService(s) as any).spec).toMatchObject({ type: "NodePort", ports: [{ port: 7000, nodePort: 31700 }] });
        expect((headlessService(s) as any).spec.ports.map((p: any) => p.port)).toEqual([7000, 7001]);
    });
});

describe("bootstrap Job", () => {
    const job = bootstrapJob(spec({})) as any;

    it("runs the shipped bootstrap script once, bounded, without a selector of its own", () => {
        expect(job.spec.template.spec.containers[0].command).toEqual(["/opt/redis-cluster/bootstrap.sh"]);
        expect(job.spec.template.spec.restartPolicy).toBe("OnFailure");
        expect(job.spec.backoffLimit).toBeGreaterThan(0);
        expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
        expect(job.spec.selector).toBeUndefined();
    });
});
