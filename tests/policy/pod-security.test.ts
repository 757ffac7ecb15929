import { restrictedViolations } from "../../policy/pod-security";

type Obj = Record<string, any>;

/** A pod that meets "restricted" with settings at the pod level; each case below breaks one control. */
function restrictedPod(): Obj {
    return {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [{ name: "init", image: "busybox:1.37.0", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
        containers: [{
            name: "app",
            image: "redis:7.2.16",
            ports: [{ containerPort: 6379 }],
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] }, readOnlyRootFilesystem: true },
        }],
        volumes: [
            { name: "config", configMap: { name: "app" } },
            { name: "auth", secret: { secretName: "app" } },
            { name: "tmp", emptyDir: {} },
            { name: "data", persistentVolumeClaim: { claimName: "data" } },
            { name: "token", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
            { name: "info", downwardAPI: { items: [] } },
        ],
    };
}

function withChange(change: (pod: Obj) => void, annotations: Record<string, string> = {}): string[] {
    const pod = restrictedPod();
    change(pod);
    return restrictedViolations(pod, annotations);
}

const app = (pod: Obj) => pod.containers[0];
const init = (pod: Obj) => pod.initContainers[0];

it("admits a pod that meets restricted, settings at the pod level", () => {
    expect(restrictedViolations(restrictedPod())).toEqual([]);
});

it("admits runAsNonRoot and seccomp set on every container instead of the pod", () => {
    expect(withChange((pod) => {
        pod.securityContext = {};
        for (const c of [app(pod), init(pod)]) {
            Object.assign(c.securityContext, { runAsNonRoot: true, seccompProfile: { type: "Localhost", localhostProfile: "bss.json" } });
        }
    })).toEqual([]);
});

it.each<[string, (pod: Obj) => void]>([
    ["hostNetwork must not be true", (p) => { p.hostNetwork = true; }],
    ["hostPID must not be true", (p) => { p.hostPID = true; }],
    ["hostIPC must not be true", (p) => { p.hostIPC = true; }],
    ["container \"app\": hostPort 6379 must not be set", (p) => { app(p).ports[0].hostPort = 6379; }],
    ["volume \"host\" uses hostPath", (p) => { p.volumes.push({ name: "host", hostPath: { path: "/var/run" } }); }],
    ["volume \"nfs\" uses nfs", (p) => { p.volumes.push({ name: "nfs", nfs: { server: "nas", path: "/" } }); }],
    ["container \"app\": privileged must not be true", (p) => { app(p).securityContext.privileged = true; }],
    ["container \"app\": allowPrivilegeEscalation must be false", (p) => { delete app(p).securityContext.allowPrivilegeEscalation; }],
    ["init container \"init\": allowPrivilegeEscalation must be false", (p) => { init(p).securityContext.allowPrivilegeEscalation = true; }],
    ["init container \"init\": capabilities.drop must include ALL", (p) => { init(p).securityContext.capabilities.drop = ["NET_RAW"]; }],
    ["container \"app\": capabilities.add \"NET_ADMIN\" is not allowed", (p) => { app(p).securityContext.capabilities.add = ["NET_ADMIN"]; }],
    ["capabilities.add \"CHOWN\" is not allowed (only NET_BIND_SERVICE; baseline would allow it)", (p) => { app(p).securityContext.capabilities.add = ["CHOWN"]; }],
    ["container \"app\": runAsNonRoot must be true", (p) => { delete p.securityContext.runAsNonRoot; }],
    ["container \"app\": runAsNonRoot must be true", (p) => { app(p).securityContext.runAsNonRoot = false; }],
    ["securityContext.runAsNonRoot must not be false", (p) => { p.securityContext.runAsNonRoot = false; app(p).securityContext.runAsNonRoot = true; init(p).securityContext.runAsNonRoot = true; }],
    ["securityContext.runAsUser must not be 0", (p) => { p.securityContext.runAsUser = 0; }],
    ["container \"app\": runAsUser must not be 0", (p) => { app(p).securityContext.runAsUser = 0; }],
    ["container \"app\": seccompProfile.type must be RuntimeDefault or Localhost (in the container or the pod securityContext)", (p) => { delete p.securityContext.seccompProfile; }],
    ["container \"app\": seccompProfile.type must be RuntimeDefault or Localhost, got \"Unconfined\"", (p) => { app(p).securityContext.seccompProfile = { type: "Unconfined" }; }],
    ["securityContext.seccompProfile.type must be RuntimeDefault or Localhost, got \"Unconfined\"", (p) => { p.securityContext.seccompProfile = { type: "Unconfined" }; }],
    ["container \"app\": procMount must be Default, got \"Unmasked\"", (p) => { app(p).securityContext.procMount = "Unmasked"; }],
    ["securityContext.sysctls \"kernel.msgmax\" is not in the safe set", (p) => { p.securityContext.sysctls = [{ name: "kernel.msgmax", value: "65536" }]; }],
    ["securityContext.seLinuxOptions.type must be one of", (p) => { p.securityContext.seLinuxOptions = { type: "spc_t" }; }],
    ["container \"app\": seLinuxOptions.user must not be set", (p) => { app(p).securityContext.seLinuxOptions = { user: "system_u" }; }],
    ["container \"app\": appArmorProfile.type must be RuntimeDefault or Localhost, got \"Unconfined\"", (p) => { app(p).securityContext.appArmorProfile = { type: "Unconfined" }; }],
    ["securityContext.windowsOptions.hostProcess must not be true", (p) => { p.securityContext.windowsOptions = { hostProcess: true }; }],
    ["ephemeral container \"debug\": allowPrivilegeEscalation must be false", (p) => { p.ephemeralContainers = [{ name: "debug", image: "busybox:1.37.0", securityContext: { capabilities: { drop: ["ALL"] } } }]; }],
])("refuses: %s", (expected, change) => {
    const problems = withChange(change);
    expect(problems.some((p) => p.includes(expected))).toBe(true);
});

it("refuses an AppArmor annotation that unconfines a container, and admits runtime/default", () => {
    const key = "container.apparmor.security.beta.kubernetes.io/app";
    expect(withChange(() => undefined, { [key]: "unconfined" })).toEqual([`annotation ${key} must be runtime/default or localhost/<profile>, got "unconfined"`]);
    expect(withChange(() => undefined, { [key]: "runtime/default" })).toEqual([]);
});

it("admits the safe sysctls and the allowed SELinux types", () => {
    expect(withChange((p) => {
        p.securityContext.sysctls = [{ name: "net.ipv4.ip_local_port_range", value: "1024 65535" }];
        p.securityContext.seLinuxOptions = { type: "container_t", level: "s0:c1,c2" };
    })).toEqual([]);
});
