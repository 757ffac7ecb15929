import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ZookeeperSettings } from "../../settings/zookeeper";
import { zookeeperConnect } from "./config";
import { buildZookeeperObjects } from "./objects";

export interface ZookeeperEnsembleArgs {
    /** Namespace of every object; no default (the stack's `bss:namespace`). */
    namespace: string;
    /** The stack's `bss:zookeeper` slice; defaults are applied in settings/zookeeper.ts (1 member in dev, 3 in prod). */
    settings: ZookeeperSettings;
}

/**
 * ZooKeeper ensemble for Kafka's ZooKeeper mode: a StatefulSet of `settings.replicas` members on PVCs, a headless
 * Service for member DNS names, a client Service on 2181 and a disruption budget for ensembles of 3 and more.
 */
export class ZookeeperEnsemble extends pulumi.ComponentResource {
    readonly statefulSet: k8s.apps.v1.StatefulSet;
    readonly headlessService: k8s.core.v1.Service;
    readonly clientService: k8s.core.v1.Service;
    /** Every member by its pod DNS name, without chroot (`host:2181,...`). */
    readonly connectString: string;

    constructor(name: string, args: ZookeeperEnsembleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:zookeeper:ZookeeperEnsemble", name, {}, opts);
        const objects = buildZookeeperObjects(args.namespace, args.settings);
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, objects.config, { parent: this });
        const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, objects.scripts, { parent: this });
        this.headlessService = new k8s.core.v1.Service(`${name}-headless`, objects.headless, { parent: this });
        this.clientService = new k8s.core.v1.Service(`${name}-client`, objects.client, { parent: this });
        this.statefulSet = new k8s.apps.v1.StatefulSet(name, objects.statefulSet, {
            parent: this,
            dependsOn: [config, scripts, this.headlessService],
        });
        if (objects.disruptionBudget) {
            new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, objects.disruptionBudget, { parent: this });
        }
        this.connectString = zookeeperConnect(args.settings.replicas, args.namespace);
        this.registerOutputs({ connectString: this.connectString, statefulSetName: this.statefulSet.metadata.name });
    }
}
