/**
 * The Kubernetes Pod Security Standard "restricted" (version "latest" as of Kubernetes 1.34), checked on a
 * pod spec the way the API server's PodSecurity admission checks it: every baseline control plus the
 * restricted ones, over containers, init containers and ephemeral containers. Pure: no Pulumi, no cluster.
 * Returns one message per violation; an empty list means the API server admits the pod in a namespace
 * labelled `pod-security.kubernetes.io/enforce: restricted`.
 */

type Obj = Record<string, any>;

/** Capabilities "baseline" lets a container add; "restricted" narrows it to NET_BIND_SERVICE. */
const BASELINE_CAPABILITIES = new Set([
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
]);
const RESTRICTED_CAPABILITIES = new Set(["NET_BIND_SERVICE"]);
/** Namespaced sysctls that cannot affect other pods on the node (the "safe" set of the standard). */
const SAFE_SYSCTLS = new Set([
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
]);
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
/** The only volume sources "restricted" allows: none of them reaches into the node. */
const RESTRICTED_VOLUME_SOURCES = new Set([
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
]);
const SECCOMP_ALLOWED = new Set(["RuntimeDefault", "Localhost"]);
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

/** Every container of a pod spec with the field it sits in, init and ephemeral containers included. */
export function allContainers(spec: Obj): { field: string; container: Obj }[] {
    return ["initContainers", "containers", "ephemeralContainers"].flatMap((field) =>
        ((spec[field] ?? []) as Obj[]).map((container) => ({ field, container })));
}

function checkSeLinux(options: Obj | undefined, where: string, problems: string[]): void {
    if (!options) {
        return;
    }
    if (!SELINUX_TYPES.has(options.type ?? "")) {
        problems.push(`${where}seLinuxOptions.type must be one of ${[...SELINUX_TYPES].filter(Boolean).join(", ")}, got "${options.type}"`);
    }
    for (const field of ["user", "role"]) {
        if (options[field]) {
            problems.push(`${where}seLinuxOptions.${field} must not be set, got "${options[field]}"`);
        }
    }
}

function checkAppArmor(profile: Obj | undefined, where: string, problems: string[]): void {
    if (profile?.type !== undefined && !SECCOMP_ALLOWED.has(profile.type)) {
        problems.push(`${where}appArmorProfile.type must be RuntimeDefault or Localhost, got "${profile.type}"`);
    }
}

/**
 * Violations of "restricted" by one pod.
 * @param spec the pod spec (a workload's `spec.template.spec`)
 * @param annotations the pod's annotations (AppArmor still has an annotation form)
 */
export function restrictedViolations(spec: Obj, annotations: Record<string, string> = {}): string[] {
    const problems: string[] = [];
    const pod: Obj = spec.securityContext ?? {};

    for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
        if (spec[field] === true) {
            problems.push(`${field} must not be true (host namespaces)`);
        }
    }
    if (pod.windowsOptions?.hostProcess === true) {
        problems.push("securityContext.windowsOptions.hostProcess must not be true");
    }
    checkSeLinux(pod.seLinuxOptions, "securityContext.", problems);
    checkAppArmor(pod.appArmorProfile, "securityContext.", problems);
    if (pod.runAsNonRoot === false) {
        problems.push("securityContext.runAsNonRoot must not be false");
    }
    if (pod.runAsUser === 0) {
        problems.push("securityContext.runAsUser must not be 0 (root)");
    }
    const podSeccomp = pod.seccompProfile?.type;
    if (podSeccomp !== undefined && !SECCOMP_ALLOWED.has(podSeccomp)) {
        problems.push(`securityContext.seccompProfile.type must be RuntimeDefault or Localhost, got "${podSeccomp}"`);
    }
    for (const sysctl of pod.sysctls ?? []) {
        if (!SAFE_SYSCTLS.has(sysctl.name)) {
            problems.push(`securityContext.sysctls "${sysctl.name}" is not in the safe set`);
        }
    }
    for (const volume of spec.volumes ?? []) {
        const sources = Object.keys(volume).filter((k) => k !== "name");
        for (const source of sources) {
            if (!RESTRICTED_VOLUME_SOURCES.has(source)) {
                problems.push(`volume "${volume.name}" uses ${source}, which is not allowed (allowed: ${[...RESTRICTED_VOLUME_SOURCES].join(", ")})`);
            }
        }
    }
    // Only the AppArmor values are read: others (config checksums) may not be known yet during a preview.
    for (const key of Object.keys(annotations).filter((k) => k.startsWith(APPARMOR_ANNOTATION))) {
        const value = String(annotations[key]);
        if (value !== "runtime/default" && !value.startsWith("localhost/")) {
            problems.push(`annotation ${key} must be runtime/default or localhost/<profile>, got "${value}"`);
        }
    }

    for (const { field, container } of allContainers(spec)) {
        const where = `${field === "containers" ? "container" : field === "initContainers" ? "init container" : "ephemeral container"} "${container.name}": `;
        const sc: Obj = container.securityContext ?? {};
        if (sc.privileged === true) {
            problems.push(`${where}privileged must not be true`);
        }
        if (sc.windowsOptions?.hostProcess === true) {
            problems.push(`${where}windowsOptions.hostProcess must not be true`);
        }
        if (sc.procMount !== undefined && sc.procMount !== "Default") {
            problems.push(`${where}procMount must be Default, got "${sc.procMount}"`);
        }
        checkSeLinux(sc.seLinuxOptions, where, problems);
        checkAppArmor(sc.appArmorProfile, where, problems);
        for (const port of container.ports ?? []) {
            if (port.hostPort !== undefined && port.hostPort !== 0) {
                problems.push(`${where}hostPort ${port.hostPort} must not be set (port ${port.containerPort})`);
            }
        }
        if (sc.allowPrivilegeEscalation !== false) {
            problems.push(`${where}allowPrivilegeEscalation must be false`);
        }
        if (sc.runAsNonRoot === false || (sc.runAsNonRoot !== true && pod.runAsNonRoot !== true)) {
            problems.push(`${where}runAsNonRoot must be true (in the container or the pod securityContext)`);
        }
        if (sc.runAsUser === 0) {
            problems.push(`${where}runAsUser must not be 0 (root)`);
        }
        const seccomp = sc.seccompProfile?.type;
        if (seccomp !== undefined && !SECCOMP_ALLOWED.has(seccomp)) {
            problems.push(`${where}seccompProfile.type must be RuntimeDefault or Localhost, got "${seccomp}"`);
        } else if (seccomp === undefined && !SECCOMP_ALLOWED.has(podSeccomp)) {
            problems.push(`${where}seccompProfile.type must be RuntimeDefault or Localhost (in the container or the pod securityContext)`);
        }
        const drop: string[] = sc.capabilities?.drop ?? [];
        if (!drop.includes("ALL")) {
            problems.push(`${where}capabilities.drop must include ALL`);
        }
        for (const capability of (sc.capabilities?.add ?? []) as string[]) {
            if (!RESTRICTED_CAPABILITIES.has(capability)) {
                problems.push(`${where}capabilities.add "${capability}" is not allowed (only NET_BIND_SERVICE${BASELINE_CAPABILITIES.has(capability) ? "; baseline would allow it" : ""})`);
            }
        }
    }
    return problems;
}
