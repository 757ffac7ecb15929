import {
    clusterDnsRecords, commandLine, containerEnvironment, DnsPod, expand, fsGroupMode, hostsFile, ObjectSource, parseQuantity,
    PodIdentity, processEnvironment, processIdentity, resolvePort, resourceFieldValue, setprivArguments,
} from "./pod-spec";

const pod: PodIdentity = {
    name: "kafka-1", namespace: "bss", ip: "10.244.7.9", hostIP: "10.244.7.1", labels: { app: "kafka" },
    annotations: { note: "n" }, serviceAccountName: "default", uid: "u-1",
};
const objects: ObjectSource = {
    configMap: (namespace, name) => (namespace === "bss" && name === "settings" ? { LEVEL: "debug", "bad name": "x" } : undefined),
    secret: (namespace, name) => (namespace === "bss" && name === "creds" ? { password: "s3cret" } : undefined),
};

describe("$(VAR) expansion", () => {
    const vars = new Map([["A", "alpha"], ["EMPTY", ""]]);
    it.each([
        ["$(A)", "alpha"],
        ["x-$(A)-$(A)", "x-alpha-alpha"],
        ["$(MISSING)", "$(MISSING)"],
        ["$$(A)", "$(A)"],
        ["$$$(A)", "$alpha"],
        ["$(A", "$(A"],
        ["cost $5", "cost $5"],
        ["end$", "end$"],
        ["$(EMPTY)x", "x"],
    ])("%s -> %s", (input, output) => {
        expect(expand(input, vars)).toEqual(output);
    });
});

describe("resource quantities", () => {
    it.each([
        ["500m", 0.5], ["2", 2], ["1Gi", 2 ** 30], ["512Mi", 512 * 2 ** 20], ["1k", 1000], ["1e3", 1000], ["1E", 1e18], [".5", 0.5],
    ])("%s", (quantity, value) => {
        expect(parseQuantity(quantity)).toBeCloseTo(value);
    });
    it("rejects garbage", () => {
        expect(() => parseQuantity("12 apples")).toThrow(/invalid resource quantity "12 apples"/);
    });
    it("gives limits through resourceFieldRef with divisors, rounding up like the kubelet", () => {
        const container = { resources: { limits: { cpu: "1500m", memory: "1536Mi" }, requests: { memory: "1Gi" } } };
        expect(resourceFieldValue(container, { resource: "limits.memory", divisor: "1Mi" })).toEqual("1536");
        expect(resourceFieldValue(container, { resource: "limits.cpu" })).toEqual("2");
        expect(resourceFieldValue(container, { resource: "limits.cpu", divisor: "1m" })).toEqual("1500");
        expect(resourceFieldValue(container, { resource: "requests.memory", divisor: "1Mi" })).toEqual("1024");
        expect(resourceFieldValue(container, { resource: "requests.cpu", divisor: "1m" })).toEqual("1500");
    });
});

describe("container environment", () => {
    const container = {
        name: "broker",
        envFrom: [{ configMapRef: { name: "settings" }, prefix: "APP_" }],
        env: [
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            { name: "ADVERTISED", value: "$(POD_NAME).kafka-headless:$(PORT)" },
            { name: "PORT", value: "9092" },
            { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
            { name: "LABEL", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: "MEM_MB", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
            { name: "LEVEL_COPY", valueFrom: { configMapKeyRef: { name: "settings", key: "LEVEL" } } },
        ],
        resources: { limits: { memory: "2Gi" } },
    };

    it("follows the kubelet's order and expansion rules", () => {
        const env = containerEnvironment(container, pod, objects);
        expect(Object.fromEntries(env)).toEqual({
            APP_LEVEL: "debug",
            POD_NAME: "kafka-1",
            POD_IP: "10.244.7.9",
            ADVERTISED: "kafka-1.kafka-headless:$(PORT)",
            PORT: "9092",
            PASSWORD: "s3cret",
            LABEL: "kafka",
            MEM_MB: "2048",
            LEVEL_COPY: "debug",
        });
    });

    it("puts the image env underneath and HOSTNAME in between", () => {
        const env = processEnvironment({ PATH: "/opt/bin", PORT: "1" }, "kafka-1", containerEnvironment(container, pod, objects));
        expect(env.get("PATH")).toEqual("/opt/bin");
        expect(env.get("PORT")).toEqual("9092");
        expect(env.get("HOSTNAME")).toEqual("kafka-1");
    });

    it("names the Secret and key that are missing", () => {
        const broken = { name: "broker", env: [{ name: "P", valueFrom: { secretKeyRef: { name: "creds", key: "nope" } } }] };
        expect(() => containerEnvironment(broken, pod, objects)).toThrow(/env P: Secret "creds" has no key "nope"/);
        const optional = { name: "broker", env: [{ name: "P", valueFrom: { secretKeyRef: { name: "other", key: "k", optional: true } } }] };
        expect(Object.fromEntries(containerEnvironment(optional, pod, objects))).toEqual({});
    });
});

describe("command line", () => {
    const env = new Map([["CONF", "/etc/app.conf"]]);
    it("command replaces entrypoint and drops the image CMD", () => {
        expect(commandLine({ name: "c", command: ["/start.sh"] }, { entrypoint: ["/entry"], cmd: ["--default"] }, env)).toEqual(["/start.sh"]);
    });
    it("args alone replace CMD under the image entrypoint, expanded", () => {
        expect(commandLine({ name: "c", args: ["--config", "$(CONF)"] }, { entrypoint: ["/entry"], cmd: ["--default"] }, env))
            .toEqual(["/entry", "--config", "/etc/app.conf"]);
    });
    it("falls back to ENTRYPOINT + CMD, and refuses nothing to run", () => {
        expect(commandLine({ name: "c" }, { entrypoint: ["/entry"], cmd: ["--default"] }, env)).toEqual(["/entry", "--default"]);
        expect(() => commandLine({ name: "c" }, {}, env)).toThrow(/no command/);
    });
});

describe("process identity", () => {
    const podSpec = { securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, supplementalGroups: [3000], runAsNonRoot: true } };
    it("lets the container context override the pod context", () => {
        const identity = processIdentity(podSpec, { name: "c", securityContext: { runAsUser: 1001, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }, {});
        expect(identity).toEqual({ uid: 1001, gid: 1000, groups: [2000, 3000], noNewPrivs: true, dropAllCapabilities: true, readOnlyRootFilesystem: false });
        expect(setprivArguments(identity)).toEqual(["--reuid=1001", "--regid=1000", "--groups=2000,3000", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]);
    });
    it("takes the image USER when nothing sets runAsUser", () => {
        expect(processIdentity({ securityContext: { runAsNonRoot: true } }, { name: "c" }, { uid: 1000, gid: 1000 })).toMatchObject({ uid: 1000, gid: 1000, groups: [] });
    });
    it("refuses runAsNonRoot with a root or unknown user", () => {
        expect(() => processIdentity({ securityContext: { runAsNonRoot: true } }, { name: "c" }, {})).toThrow(/runAsNonRoot and image will run as root/);
        expect(() => processIdentity(podSpec, { name: "c", securityContext: { runAsUser: 0 } }, {})).toThrow(/runAsNonRoot/);
        expect(processIdentity({}, { name: "c" }, {})).toMatchObject({ uid: 0, gid: 0 });
    });
});

describe("fsGroup ownership modes", () => {
    it.each([
        ["755", true, false, "2775"],
        ["777", true, false, "2777"],
        ["644", false, false, "664"],
        ["400", false, true, "440"],
        ["755", false, true, "755"],
        ["644", false, true, "644"],
    ])("mode %s, folder %s, read-only volume %s -> %s", (mode, dir, readOnly, expected) => {
        expect(fsGroupMode(parseInt(mode, 8), dir, readOnly).toString(8)).toEqual(expected);
    });
});

describe("cluster DNS", () => {
    const services = [
        { kind: "Service", metadata: { name: "kafka-headless", namespace: "bss" }, spec: { clusterIP: "None", publishNotReadyAddresses: true, selector: { app: "kafka" } } },
        { kind: "Service", metadata: { name: "kafka", namespace: "bss" }, spec: { selector: { app: "kafka" } } },
        { kind: "Service", metadata: { name: "kafka-0-external", namespace: "bss" }, spec: { type: "NodePort", selector: { "statefulset.kubernetes.io/pod-name": "kafka-0" } } },
    ];
    const broker = (ordinal: number, ready: boolean): DnsPod => ({
        name: `kafka-${ordinal}`, namespace: "bss", ip: `10.244.1.${10 + ordinal}`, hostname: `kafka-${ordinal}`, subdomain: "kafka-headless",
        labels: { app: "kafka", "statefulset.kubernetes.io/pod-name": `kafka-${ordinal}` }, ready,
    });
    const lookup = (records: [string, string[]][], name: string) => records.filter(([, names]) => names.includes(name)).map(([ip]) => ip);

    it("publishes not-ready pods only through publishNotReadyAddresses Services", () => {
        const records = clusterDnsRecords([broker(0, false), broker(1, true)], services);
        expect(lookup(records, "kafka-0.kafka-headless.bss.svc.cluster.local")).toEqual(["10.244.1.10"]);
        expect(lookup(records, "kafka-0.kafka-headless")).toEqual(["10.244.1.10"]);
        expect(lookup(records, "kafka-headless.bss.svc")).toEqual(["10.244.1.10", "10.244.1.11"]);
        expect(lookup(records, "kafka.bss.svc.cluster.local")).toEqual(["10.244.1.11"]);
        expect(lookup(records, "kafka-0-external.bss")).toEqual([]);
        expect(lookup(records, "kafka-0")).toEqual([]);
    });

    it("writes the pod's own line first, with its short hostname only there", () => {
        const records = clusterDnsRecords([broker(0, true)], services);
        const own = hostsFile(records, { ip: "10.244.1.10", hostname: "kafka-0", subdomain: "kafka-headless", namespace: "bss" });
        expect(own).toContain("10.244.1.10\tkafka-0.kafka-headless.bss.svc.cluster.local kafka-0\n");
        expect(hostsFile(records)).not.toMatch(/\skafka-0\n/);
        expect(hostsFile(records)).toContain("127.0.0.1\tlocalhost\n");
    });
});

describe("named ports", () => {
    const containers = [{ name: "c", ports: [{ name: "client", containerPort: 2181 }] }];
    it("resolves names and numbers", () => {
        expect(resolvePort("client", containers)).toEqual(2181);
        expect(resolvePort(8080, containers)).toEqual(8080);
        expect(resolvePort("9092", containers)).toEqual(9092);
        expect(() => resolvePort("http", containers)).toThrow(/no container port named "http" \(have: client\)/);
    });
});
