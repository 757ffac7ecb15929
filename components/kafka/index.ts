import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KafkaSettings } from "../../settings/kafka";
import { externalBootstrap, internalBootstrap } from "./config";
import { buildKafkaObjects } from "./objects";

export interface KafkaClusterArgs {
    /** Namespace of every object; no default (the stack's `bss:namespace`). */
    namespace: string;
    /** The stack's `bss:kafka` slice; defaults are applied in settings/kafka.ts (3 brokers, RF min(3, brokers)). */
    settings: KafkaSettings;
    /** ZooKeeper member list without chroot (`ZookeeperEnsemble.connectString`); ZooKeeper stacks only, no default. */
    zookeeperConnect?: string;
    /** The controller quorum (`KafkaControllerQuorum`); KRaft stacks only, no default. */
    controllers?: { quorumVoters: string; clusterId: pulumi.Input<string> };
}

/**
 * Kafka brokers in ZooKeeper or KRaft mode (`settings.metadata`): a StatefulSet (broker.id = ordinal) on PVCs, a headless Service for broker
 * DNS names, the bootstrap Service `kafka` (INTERNAL, 9092), one NodePort Service per broker for its EXTERNAL
 * listener, a disruption budget and the kafka-exporter Deployment for Prometheus.
 */
export class KafkaCluster extends pulumi.ComponentResource {
    readonly statefulSet: k8s.apps.v1.StatefulSet;
    readonly headlessService: k8s.core.v1.Service;
    readonly bootstrapService: k8s.core.v1.Service;
    /** Broker i's NodePort Service at index i. */
    readonly externalServices: k8s.core.v1.Service[];
    /** `host:port` of every broker's EXTERNAL listener, as clients outside the cluster dial them. */
    readonly externalBootstrap: string[];
    /** `kafka.<namespace>.svc.cluster.local:9092` for clients inside the cluster. */
    readonly internalBootstrap: string;
    /** `zookeeper.connect` of the brokers, chroot included; undefined on a KRaft stack. */
    readonly zookeeperConnect?: string;

    constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:kafka:KafkaCluster", name, {}, opts);
        const kraft = args.settings.metadata === "kraft";
        if (kraft ? args.controllers === undefined : args.zookeeperConnect === undefined) {
            throw new Error(`bss:kafka.metadata "${args.settings.metadata}" needs ${kraft ? "the controller quorum" : "the ZooKeeper connect string"}`);
        }
        this.zookeeperConnect = kraft ? undefined : `${args.zookeeperConnect}${args.settings.zookeeperChroot}`;
        const objects = kraft
            ? buildKafkaObjects(args.namespace, args.settings, args.controllers!.quorumVoters, args.controllers!.clusterId)
            : buildKafkaObjects(args.namespace, args.settings, this.zookeeperConnect!);
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, objects.config, { parent: this });
        const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, objects.scripts, { parent: this });
        this.headlessService = new k8s.core.v1.Service(`${name}-headless`, objects.headless, { parent: this });
        this.bootstrapService = new k8s.core.v1.Service(`${name}-bootstrap`, objects.bootstrap, { parent: this });
        this.externalServices = objects.external.map((service, i) => new k8s.core.v1.Service(`${name}-${i}-external`, service, { parent: this }));
        this.statefulSet = new k8s.apps.v1.StatefulSet(name, objects.statefulSet, {
            parent: this,
            dependsOn: [config, scripts, this.headlessService],
        });
        new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, objects.disruptionBudget, { parent: this });
        // After the brokers are Ready: the exporter exits when no broker answers at its start.
        new k8s.apps.v1.Deployment(`${name}-exporter`, objects.exporter, { parent: this, dependsOn: [this.statefulSet] });
        this.externalBootstrap = externalBootstrap(args.settings);
        this.internalBootstrap = internalBootstrap(args.namespace);
        this.registerOutputs({
            externalBootstrap: this.externalBootstrap,
            internalBootstrap: this.internalBootstrap,
            zookeeperConnect: this.zookeeperConnect ?? null,
        });
    }
}
