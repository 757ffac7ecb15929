import * as k8s from "@pulumi/kubernetes";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/**
 * Pod-level context for a non-root workload; `fsGroup` makes PVC and Secret/ConfigMap volumes readable
 * and writable by the process, and OnRootMismatch skips the recursive chown on restarts of large volumes.
 */
export function podSecurityContext(uid: number, gid: number = uid): PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: gid,
        fsGroup: gid,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** Container-level context that passes the Kubernetes "restricted" Pod Security Standard. */
export function containerSecurityContext(opts: { readOnlyRootFilesystem?: boolean } = {}): SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        runAsNonRoot: true,
        readOnlyRootFilesystem: opts.readOnlyRootFilesystem ?? true,
        seccompProfile: { type: "RuntimeDefault" },
    };
}
