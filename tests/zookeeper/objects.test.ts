import { renderZooCfg, zookeeperConnect } from "../../components/zookeeper/config";
import { buildZookeeperObjects } from "../../components/zookeeper/objects";
import { loadSettings } from "../../settings";

type Obj = Record<string, any>;

function objects(environment: "dev" | "prod", zookeeper: Record<string, unknown> = {}): Record<string, Obj> {
    const settings = loadSettings({ "bss:environment": environment, "bss:zookeeper": JSON.stringify(zookeeper) }, environment);
    return JSON.parse(JSON.stringify(buildZookeeperObjects("bss", settings.zookeeper)));
}

describe("zoo.cfg", () => {
    it("lists every member by its pod DNS name with quorum, election and client ports", () => {
        const lines = renderZooCfg({ replicas: 3, namespace: "telco" }).split("\n");
        expect(lines.filter((l) => l.startsWith("server."))).toEqual([
            "server.1=zookeeper-0.zookeeper-headless.telco.svc.cluster.local:2888:3888;2181",
            "server.2=zookeeper-1.zookeeper-headless.telco.svc.cluster.local:2888:3888;2181",
            "server.3=zookeeper-2.zookeeper-headless.telco.svc.cluster.local:2888:3888;2181",
        ]);
        expect(lines).toEqual(expect.arrayContaining([
            "4lw.commands.whitelist=srvr,ruok,mntr",
            "dataDir=/var/lib/zookeeper/data",
            "dataLogDir=/var/lib/zookeeper/log",
            "quorumListenOnAllIPs=true",
        ]));
    });

    it("gives Kafka every member plus the chroot, no Service VIP", () => {
        expect(zookeeperConnect(3, "bss", "/bss-kafka")).toBe(
            "zookeeper-0.zookeeper-headless.bss.svc.cluster.local:2181,zookeeper-1.zookeeper-headless.bss.svc.cluster.local:2181,"
            + "zookeeper-2.zookeeper-headless.bss.svc.cluster.local:2181/bss-kafka");
        expect(zookeeperConnect(1, "bss")).toBe("zookeeper-0.zookeeper-headless.bss.svc.cluster.local:2181");
    });
});

describe("ensemble objects", () => {
    it("runs one member without a disruption budget in dev, three with maxUnavailable 1 in prod", () => {
        const dev = objects("dev");
        expect(dev.statefulSet.spec.replicas).toBe(1);
        expect(dev.disruptionBudget).toBeUndefined();
        const prod = objects("prod");
        expect(prod.statefulSet.spec.replicas).toBe(3);
        expect(prod.disruptionBudget.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: prod.statefulSet.spec.selector.matchLabels } });
        expect(prod.statefulSet.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    });

    it("starts members in parallel and publishes them before they are Ready (a quorum needs its peers first)", () => {
        const { statefulSet, headless, client } = objects("prod");
        expect(statefulSet.spec.podManagementPolicy).toBe("Parallel");
        expect(headless.metadata.name).toBe("zookeeper-headless");
        expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
        expect(headless.spec.ports.map((p: Obj) => p.port)).toEqual([2181, 2888, 3888]);
        expect(client.metadata.name).toBe("zookeeper");
        expect(client.spec.ports).toEqual([{ name: "client", port: 2181, targetPort: "client" }]);
    });

    it("runs the shipped start script as uid 1000 with probes on the four-letter words and data on a PVC", () => {
        const { statefulSet } = objects("prod", { storageSize: "20Gi", storageClass: "fast" });
        const pod = statefulSet.spec.template.spec;
        const container = pod.containers[0];
        expect(container.command).toEqual(["/opt/bss/zookeeper/start.sh"]);
        expect(container.readinessProbe.exec.command).toEqual(["/opt/bss/zookeeper/probe.sh", "ready"]);
        expect(container.livenessProbe.exec.command).toEqual(["/opt/bss/zookeeper/probe.sh", "alive"]);
        expect(pod.securityContext).toMatchObject({ runAsUser: 1000, fsGroup: 1000, runAsNonRoot: true });
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        expect(container.volumeMounts.find((m: Obj) => m.name === "data").mountPath).toBe("/var/lib/zookeeper");
        expect(statefulSet.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: "fast", resources: { requests: { storage: "20Gi" } } });
    });

    it("copies the Prometheus provider from the pinned ZooKeeper image and asks Prometheus to scrape port 7000", () => {
        const { statefulSet } = objects("dev");
        const [init] = statefulSet.spec.template.spec.initContainers;
        expect(init.image).toBe("zookeeper:3.8.4");
        expect(init.command.join(" ")).toMatch(/zookeeper-prometheus-metrics-\*\.jar .*simpleclient\*\.jar \/opt\/zookeeper-metrics\/$/);
        expect(init.securityContext).toMatchObject({ runAsUser: 1000, allowPrivilegeEscalation: false });
        expect(statefulSet.spec.template.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "7000" });
        expect(statefulSet.spec.template.spec.containers[0].ports.map((p: Obj) => p.containerPort)).toContain(7000);
    });
});
