import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { RedisSettings } from "../../settings/redis";
import { shippedFile } from "../shared/files";
import {
    authSecret, bootstrapJob, clientAddress, clientService, configMap, disruptionBudget, externalService,
    headlessService, PASSWORD_KEY, RedisClusterSpec, SCRIPT_FILES, ScriptName, scriptsConfigMap, statefulSet,
} from "./manifests";
import { BACKUP_SCRIPT_FILES, backupObjects, BackupScriptName } from "./backup";

export interface RedisClusterArgs {
    /** Namespace of every object. No default: the stack's `bss:namespace`. */
    namespace: string;
    /** The `bss:redis` settings slice. No default: `settings.redis`. */
    settings: RedisSettings;
    /** Password override (`bss:redisPassword`). Default: a generated 32-character alphanumeric password. */
    password?: pulumi.Input<string>;
}

/** The shell scripts beside this file, exactly as tests execute them. */
export function shippedScripts(): Record<ScriptName, string> {
    return Object.fromEntries(SCRIPT_FILES.map((name) => [name, shippedFile(__dirname, name)])) as Record<ScriptName, string>;
}

/** backup.sh and restore.sh, exactly as tests execute them. */
export function shippedBackupScripts(): Record<BackupScriptName, string> {
    return Object.fromEntries(BACKUP_SCRIPT_FILES.map((name) => [name, shippedFile(__dirname, name)])) as Record<BackupScriptName, string>;
}

/**
 * A Redis Cluster as a StatefulSet: `masters × (1 + replicasPerMaster)` nodes, formed once by a bootstrap
 * Job, password from a Secret, metrics sidecar, PDB when there is more than one node, and the backup CronJob
 * unless `bss:redis.backup.schedule` is off.
 */
export class RedisCluster extends pulumi.ComponentResource {
    /** The Redis password (a Pulumi secret). */
    readonly password: pulumi.Output<string>;
    /** In-cluster address of the client Service, `redis-cluster.<ns>.svc.cluster.local:7000`. */
    readonly address: pulumi.Output<string>;
    readonly statefulSet: k8s.apps.v1.StatefulSet;

    constructor(name: string, args: RedisClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:redis:RedisCluster", name, {}, opts);
        const spec: RedisClusterSpec = { namespace: args.namespace, settings: args.settings, scripts: shippedScripts() };

        const password = args.password !== undefined
            ? pulumi.secret(args.password)
            : new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this }).result;
        this.password = pulumi.secret(password);

        const secret = new k8s.core.v1.Secret(`${name}-auth`, authSecret(spec, { [PASSWORD_KEY]: this.password }), { parent: this });
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, configMap(spec), { parent: this });
        const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, scriptsConfigMap(spec), { parent: this });
        const headless = new k8s.core.v1.Service(`${name}-headless`, headlessService(spec), { parent: this });
        new k8s.core.v1.Service(`${name}-client`, clientService(spec), { parent: this });
        if (args.settings.hostAccess) {
            new k8s.core.v1.Service(`${name}-external`, externalService(spec), { parent: this });
        }

        const inputs = [secret, config, scripts, headless];
        this.statefulSet = new k8s.apps.v1.StatefulSet(`${name}-nodes`, statefulSet(spec), { parent: this, dependsOn: inputs });
        // No dependency on the StatefulSet: its pods only turn ready once this Job has formed the cluster.
        new k8s.batch.v1.Job(`${name}-bootstrap`, bootstrapJob(spec), { parent: this, dependsOn: [secret, scripts, headless] });

        const budget = disruptionBudget(spec);
        if (budget) {
            new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, budget, { parent: this });
        }

        const backup = backupObjects({ namespace: args.namespace, settings: args.settings, scripts: shippedBackupScripts() });
        if (backup) {
            const backupScripts = new k8s.core.v1.ConfigMap(`${name}-backup-scripts`, backup.scripts, { parent: this });
            const backups = new k8s.core.v1.PersistentVolumeClaim(`${name}-backups`, backup.volumeClaim, { parent: this });
            new k8s.batch.v1.CronJob(`${name}-backup`, backup.cronJob, { parent: this, dependsOn: [secret, backupScripts, backups] });
        }

        this.address = pulumi.output(clientAddress(args.namespace));
        this.registerOutputs({ password: this.password, address: this.address });
    }
}
