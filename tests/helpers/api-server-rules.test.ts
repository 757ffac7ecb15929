import { checkObjects } from "./api-server-rules";

type Obj = Record<string, any>;

/** A small valid stack: every rule's negative case below breaks exactly one thing in a copy of it. */
function validSet(): Obj[] {
    const podLabels = { "app.kubernetes.io/name": "demo", "app.kubernetes.io/part-of": "bss" };
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "bss" } },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "demo-scripts", namespace: "bss" }, data: { "start.sh": "#!/bin/sh\n" } },
        { apiVersion: "v1", kind: "Secret", metadata: { name: "demo-auth", namespace: "bss" }, stringData: { password: "<redacted>" } },
        {
            apiVersion: "v1", kind: "Service", metadata: { name: "demo-headless", namespace: "bss" },
            spec: { clusterIP: "None", publishNotReadyAddresses: true, selector: podLabels, ports: [{ name: "client", port: 7000, targetPort: "client" }] },
        },
        {
            apiVersion: "v1", kind: "Service", metadata: { name: "demo-external", namespace: "bss" },
            spec: { type: "NodePort", selector: podLabels, ports: [{ name: "client", port: 7000, targetPort: "client", nodePort: 30700 }] },
        },
        {
            apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "demo", namespace: "bss", labels: podLabels },
            spec: {
                serviceName: "demo-headless",
                replicas: 1,
                selector: { matchLabels: podLabels },
                template: {
                    metadata: { labels: podLabels, annotations: { "prometheus.io/scrape": "true" } },
                    spec: {
                        containers: [{
                            name: "demo",
                            image: "redis:7.2.11",
                            command: ["/scripts/start.sh"],
                            ports: [{ name: "client", containerPort: 7000 }],
                            env: [{ name: "PASSWORD", valueFrom: { secretKeyRef: { name: "demo-auth", key: "password" } } }],
                            readinessProbe: { tcpSocket: { port: "client" } },
                            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
                            volumeMounts: [{ name: "scripts", mountPath: "/scripts" }, { name: "data", mountPath: "/data" }],
                        }],
                        volumes: [{ name: "scripts", configMap: { name: "demo-scripts", defaultMode: 0o755, items: [{ key: "start.sh", path: "start.sh" }] } }],
                    },
                },
                volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
            },
        },
        {
            apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "demo", namespace: "bss" },
            spec: { maxUnavailable: 1, selector: { matchLabels: podLabels } },
        },
    ];
}

function withChange(change: (objects: Obj[]) => void): string[] {
    const objects = validSet();
    change(objects);
    return checkObjects(objects);
}

const sts = (objects: Obj[]) => objects.find((o) => o.kind === "StatefulSet")!;
const container = (objects: Obj[]) => sts(objects).spec.template.spec.containers[0];
const service = (objects: Obj[], name: string) => objects.find((o) => o.kind === "Service" && o.metadata.name === name)!;

it("accepts a valid set", () => {
    expect(checkObjects(validSet())).toEqual([]);
});

it.each<[string, (objects: Obj[]) => void]>([
    ["metadata.name \"Demo_Set\" is not a valid DNS-1123 subdomain", (o) => { sts(o).metadata.name = "Demo_Set"; }],
    ["metadata.name \"demo.headless\" is not a valid DNS-1123 label", (o) => { service(o, "demo-external").metadata.name = "demo.headless"; }],
    ["a namespaced object needs metadata.namespace", (o) => { delete o[1].metadata.namespace; }],
    ["namespace \"other\" is not created by the stack", (o) => { o[1].metadata.namespace = "other"; }],
    ["a cluster-scoped object must not have metadata.namespace", (o) => { o[0].metadata.namespace = "bss"; }],
    ["is declared twice", (o) => { o.push({ ...o[1] }); }],
    ["label key \"bad key!\" is not a valid qualified name", (o) => { sts(o).metadata.labels = { "bad key!": "x" }; }],
    ["has an invalid label value", (o) => { sts(o).metadata.labels = { "app.kubernetes.io/version": "3.9.2+build/1" }; }],
    ["annotation \"replicas\" must be a string, got 3", (o) => { sts(o).metadata.annotations = { replicas: 3 }; }],
    ["data key \"start sh\" is invalid", (o) => { o[1].data = { "start sh": "x" }; }],
    ["spec.selector", (o) => { sts(o).spec.selector.matchLabels = { "app.kubernetes.io/name": "other" }; }],
    ["spec.serviceName \"missing\" is not a Service of the stack", (o) => { sts(o).spec.serviceName = "missing"; }],
    ["must be a headless Service", (o) => { sts(o).spec.serviceName = "demo-external"; }],
    ["volumeClaimTemplate \"data\" needs accessModes and a storage request", (o) => { delete sts(o).spec.volumeClaimTemplates[0].spec.resources; }],
    ["mounts volume \"cache\", which the pod does not declare", (o) => { container(o).volumeMounts.push({ name: "cache", mountPath: "/cache" }); }],
    ["mounts two volumes at /data", (o) => { container(o).volumeMounts[0].mountPath = "/data"; }],
    ["refers to ConfigMap \"missing\", which the stack does not create", (o) => { sts(o).spec.template.spec.volumes[0].configMap.name = "missing"; }],
    ["wants key \"stop.sh\" of ConfigMap \"demo-scripts\"", (o) => { sts(o).spec.template.spec.volumes[0].configMap.items[0].key = "stop.sh"; }],
    ["defaultMode 755 is not a file mode", (o) => { sts(o).spec.template.spec.volumes[0].configMap.defaultMode = 755; }],
    ["env \"PASSWORD\" refers to Secret \"missing\"", (o) => { container(o).env[0].valueFrom.secretKeyRef.name = "missing"; }],
    ["env \"PASSWORD\" wants key \"pass\" of Secret \"demo-auth\"", (o) => { container(o).env[0].valueFrom.secretKeyRef.key = "pass"; }],
    ["env \"PORT\" value must be a string, got 7000", (o) => { container(o).env.push({ name: "PORT", value: 7000 }); }],
    ["sets env \"PASSWORD\" twice", (o) => { container(o).env.push({ name: "PASSWORD", value: "x" }); }],
    ["port 70000 is out of range", (o) => { container(o).ports[0].containerPort = 70000; }],
    ["port name \"client-port-number\" is not an IANA service name", (o) => { container(o).ports[0].name = "client-port-number"; }],
    ["readinessProbe refers to port \"http\"", (o) => { container(o).readinessProbe = { httpGet: { port: "http", path: "/" } }; }],
    ["readinessProbe has no handler", (o) => { container(o).readinessProbe = { periodSeconds: 5 }; }],
    ["requests more memory (512Mi) than its limit (256Mi)", (o) => { container(o).resources.requests.memory = "512Mi"; }],
    ["container \"demo\" is declared twice", (o) => { sts(o).spec.template.spec.containers.push({ ...container(o) }); }],
    ["matches no pod template of the stack", (o) => { service(o, "demo-external").spec.selector = { app: "nothing" }; }],
    ["targetPort \"bus\" is not a named port of the selected pods", (o) => { service(o, "demo-external").spec.ports[0].targetPort = "bus"; }],
    ["nodePort 8000 is outside 30000-32767", (o) => { service(o, "demo-external").spec.ports[0].nodePort = 8000; }],
    ["nodePort 30700 is only allowed on NodePort and LoadBalancer Services", (o) => { service(o, "demo-external").spec.type = "ClusterIP"; }],
    ["nodePort 30700 is already allocated to Service/bss/demo-external", (o) => { o.push({ ...service(o, "demo-external"), metadata: { name: "demo-two", namespace: "bss" } }); }],
    ["port 7001 needs a name", (o) => { service(o, "demo-headless").spec.ports.push({ port: 7001, targetPort: 7001 }); }],
    ["a headless Service must be of type ClusterIP", (o) => { service(o, "demo-headless").spec.type = "NodePort"; }],
    ["exactly one of minAvailable and maxUnavailable must be set", (o) => { o[o.length - 1].spec.minAvailable = 1; }],
])("reports: %s", (expected, change) => {
    const found = withChange(change);
    expect(found.some((p) => p.includes(expected))).toBe(true);
});

describe("per-pod selectors of StatefulSet pods (statefulset.kubernetes.io/pod-name)", () => {
    const perPod = (podName: string, replicas: number) => withChange((o) => {
        sts(o).spec.replicas = replicas;
        service(o, "demo-external").spec.selector = { ...service(o, "demo-external").spec.selector, "statefulset.kubernetes.io/pod-name": podName };
    });

    it("accepts a Service selecting one pod the StatefulSet runs", () => {
        expect(perPod("demo-1", 2)).toEqual([]);
    });

    it.each([["demo-2", 2], ["other-0", 2]])("reports a Service selecting %s of a %i-replica StatefulSet", (podName, replicas) => {
        expect(perPod(podName as string, replicas as number)).toEqual([expect.stringContaining("Service/bss/demo-external: selector")]);
    });
});

describe("Job selectors (generated by the API server)", () => {
    const job = (spec: Obj) => withChange((o) => {
        const template = sts(o).spec.template;
        const containers = [{ ...template.spec.containers[0], volumeMounts: [{ name: "scripts", mountPath: "/scripts" }] }];
        o.push({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "demo-once", namespace: "bss" }, spec: { ...spec, template: { ...template, spec: { ...template.spec, containers, restartPolicy: "OnFailure" } } } });
    });

    it("accepts a Job without a selector", () => {
        expect(job({})).toEqual([]);
    });

    it("reports a Job that sets its selector without manualSelector", () => {
        expect(job({ selector: { matchLabels: { "app.kubernetes.io/name": "demo" } } })).toEqual([
            "Job/bss/demo-once: spec.selector is generated by the API server: set it only with spec.manualSelector: true",
        ]);
    });
});
