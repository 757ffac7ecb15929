/**
 * Pure builders for the Redis backups: the CronJob `redis-backup` running backup.sh, the PVC it writes to, and the
 * ConfigMap carrying backup.sh and restore.sh. Their own ConfigMap rather than the nodes' scripts ConfigMap: the
 * nodes' pod template carries a checksum of every script there, and a backup change must not roll the cluster.
 */
import type * as Input from "@pulumi/kubernetes/types/input";
import { RedisSettings } from "../../settings/redis";
import { imageVersion, labels, selectorLabels } from "../shared/labels";
import { containerSecurityContext, podSecurityContext } from "../shared/security";
import { EXECUTABLE_MODE } from "../shared/files";
import { CLIENT_PORT } from "./config";
import { NAMES as CLUSTER_NAMES, PASSWORD_KEY, REDIS_UID } from "./manifests";

export const BACKUP_NAMES = {
    cronJob: "redis-backup",
    volumeClaim: "redis-backups",
    scripts: "redis-backup-scripts",
} as const;

/** The backup pods' `app.kubernetes.io/name`: the network policies let these pods reach the nodes. */
export const BACKUP_COMPONENT = "redis-backup";

export const BACKUP_SCRIPT_FILES = ["backup.sh", "restore.sh"] as const;
export type BackupScriptName = typeof BACKUP_SCRIPT_FILES[number];

export const BACKUP_PATHS = {
    scriptsDir: "/opt/redis-backup",
    backups: "/backups",
    /** restore.sh's copy of the RDB it loads: the backup volume is only read. */
    scratch: "/scratch",
} as const;

/**
 * Bound of one run. A master's RDB streams at disk speed (541 KB in about 5 s on the test cluster, mostly the
 * fork and handshake); an hour leaves room for masters near maxmemory on slow storage and for restore.sh.
 */
export const BACKUP_DEADLINE_SECONDS = 3600;

export interface RedisBackupSpec {
    namespace: string;
    settings: RedisSettings;
    /** Text of backup.sh and restore.sh, as shipped beside this file. */
    scripts: Record<BackupScriptName, string>;
}

export interface RedisBackupObjects {
    scripts: Input.core.v1.ConfigMap;
    volumeClaim: Input.core.v1.PersistentVolumeClaim;
    cronJob: Input.batch.v1.CronJob;
}

function metadata(spec: RedisBackupSpec, name: string): Input.meta.v1.ObjectMeta {
    return { name, namespace: spec.namespace, labels: labels(BACKUP_COMPONENT, { "app.kubernetes.io/version": imageVersion(spec.settings.image) }) };
}

/** The backup objects, or none when `bss:redis.backup.schedule` is off. */
export function backupObjects(spec: RedisBackupSpec): RedisBackupObjects | undefined {
    const backup = spec.settings.backup;
    if (backup.schedule === undefined) {
        return undefined;
    }
    const podLabels = labels(BACKUP_COMPONENT, { "app.kubernetes.io/version": imageVersion(spec.settings.image) });
    return {
        scripts: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: metadata(spec, BACKUP_NAMES.scripts),
            data: { ...spec.scripts },
        },
        volumeClaim: {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: {
                ...metadata(spec, BACKUP_NAMES.volumeClaim),
                labels: selectorLabels(BACKUP_COMPONENT),
                // Its first consumer is the first scheduled run: a WaitForFirstConsumer class leaves it Pending till then.
                annotations: { "pulumi.com/skipAwait": "true" },
            },
            spec: {
                accessModes: ["ReadWriteOnce"],
                ...(backup.storageClass ? { storageClassName: backup.storageClass } : {}),
                resources: { requests: { storage: backup.storageSize } },
            },
        },
        cronJob: {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: metadata(spec, BACKUP_NAMES.cronJob),
            spec: {
                schedule: backup.schedule,
                timeZone: "Etc/UTC",
                // Two runs at once would both fork every master and race on the retention pass.
                concurrencyPolicy: "Forbid",
                // A run missed by more than this (controller down) is skipped rather than started late.
                startingDeadlineSeconds: 3600,
                successfulJobsHistoryLimit: 3,
                failedJobsHistoryLimit: 3,
                jobTemplate: {
                    metadata: { labels: podLabels },
                    spec: {
                        backoffLimit: 2,
                        activeDeadlineSeconds: BACKUP_DEADLINE_SECONDS,
                        template: {
                            metadata: { labels: podLabels },
                            spec: {
                                restartPolicy: "Never",
                                securityContext: podSecurityContext(REDIS_UID),
                                automountServiceAccountToken: false,
                                enableServiceLinks: false,
                                containers: [{
                                    name: "backup",
                                    image: spec.settings.image,
                                    command: [`${BACKUP_PATHS.scriptsDir}/backup.sh`],
                                    env: [
                                        // redis-cli reads it from the environment: never on a command line.
                                        { name: "REDISCLI_AUTH", valueFrom: { secretKeyRef: { name: CLUSTER_NAMES.secret, key: PASSWORD_KEY } } },
                                        { name: "REDIS_HOST", value: CLUSTER_NAMES.clientService },
                                        { name: "REDIS_PORT", value: String(CLIENT_PORT) },
                                        { name: "BACKUP_DIR", value: BACKUP_PATHS.backups },
                                        { name: "BACKUP_RETENTION", value: String(backup.retention) },
                                        { name: "RESTORE_SCRATCH", value: BACKUP_PATHS.scratch },
                                    ],
                                    // The memory limit is the nodes': restore.sh, run from this template, loads one
                                    // master's RDB into a throwaway redis-server; backup.sh itself only streams.
                                    resources: {
                                        requests: { cpu: "10m", memory: "32Mi" },
                                        limits: { cpu: spec.settings.resources.limits.cpu, memory: spec.settings.resources.limits.memory },
                                    },
                                    securityContext: containerSecurityContext(),
                                    volumeMounts: [
                                        { name: "scripts", mountPath: BACKUP_PATHS.scriptsDir, readOnly: true },
                                        { name: "backups", mountPath: BACKUP_PATHS.backups },
                                        { name: "scratch", mountPath: BACKUP_PATHS.scratch },
                                    ],
                                }],
                                volumes: [
                                    { name: "scripts", configMap: { name: BACKUP_NAMES.scripts, defaultMode: EXECUTABLE_MODE } },
                                    { name: "backups", persistentVolumeClaim: { claimName: BACKUP_NAMES.volumeClaim } },
                                    { name: "scratch", emptyDir: { sizeLimit: spec.settings.storageSize } },
                                ],
                            },
                        },
                    },
                },
            },
        },
    };
}
