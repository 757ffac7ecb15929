import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { KafkaControllerSettings } from "../../../settings/kafka";
import { controllerQuorumVoters } from "./config";
import { buildControllerObjects } from "./objects";

export interface KafkaControllerQuorumArgs {
    /** Namespace of every object; no default (the stack's `bss:namespace`). */
    namespace: string;
    /** The controller slice of `bss:kafka` (settings/kafka.ts: 1 controller in dev, 3 in prod). */
    settings: KafkaControllerSettings;
    /** `bss:kafka.image`: controllers run the brokers' release; no default. */
    image: string;
}

/**
 * The KRaft controller quorum of a `bss:kafka.metadata: kraft` stack: a StatefulSet of `settings.replicas` voters
 * (node ids 1000 + ordinal) on PVCs, their headless Service, a disruption budget, and the stack's cluster ID, generated
 * once and kept in the stack's state (every log dir, controllers' and brokers', is formatted for it).
 */
export class KafkaControllerQuorum extends pulumi.ComponentResource {
    readonly statefulSet: k8s.apps.v1.StatefulSet;
    readonly headlessService: k8s.core.v1.Service;
    /** The cluster ID: 16 random bytes in base64url (22 characters), Kafka's Uuid text form. */
    readonly clusterId: pulumi.Output<string>;
    /** `controller.quorum.voters` of the controllers and the brokers. */
    readonly quorumVoters: string;

    constructor(name: string, args: KafkaControllerQuorumArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:kafka:KafkaControllerQuorum", name, {}, opts);
        this.clusterId = new random.RandomId(`${name}-cluster-id`, { byteLength: 16 }, { parent: this }).b64Url;
        this.quorumVoters = controllerQuorumVoters(args.settings.replicas, args.namespace);
        const objects = buildControllerObjects({ namespace: args.namespace, settings: args.settings, image: args.image, clusterId: this.clusterId });
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, objects.config, { parent: this });
        const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, objects.scripts, { parent: this });
        this.headlessService = new k8s.core.v1.Service(`${name}-headless`, objects.headless, { parent: this });
        this.statefulSet = new k8s.apps.v1.StatefulSet(name, objects.statefulSet, {
            parent: this,
            dependsOn: [config, scripts, this.headlessService],
        });
        new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, objects.disruptionBudget, { parent: this });
        this.registerOutputs({ clusterId: this.clusterId, quorumVoters: this.quorumVoters });
    }
}
