import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AkhqSettings } from "../../settings/akhq";
import { KongSettings } from "../../settings/kong";
import { NetworkPolicySettings } from "../../settings/network-policy";
import { RedisSettings } from "../../settings/redis";
import { buildNetworkPolicies } from "./policies";

export interface NetworkPoliciesArgs {
    /** Namespace the policies govern (the stack's `bss:namespace`); no default. */
    namespace: string;
    /** The stack's `bss:networkPolicy` slice; defaults in settings/network-policy.ts (clients: the namespace, scrapes: `monitoring`). */
    settings: NetworkPolicySettings;
    /** The stack's `bss:redis` slice: `hostAccess` opens the client port to the NodePort; no default. */
    redis: RedisSettings;
    /** The stack's `bss:akhq` slice: a NodePort UI is open to its NodePort; no default. */
    akhq: AkhqSettings;
    /** The stack's `bss:kong` slice: the proxy's exposure and every upstream Kong dials; no default. */
    kong: KongSettings;
    /** The Maven repository the brokers' JMX exporter agent is downloaded from, when they run it. Default: no agent. */
    jmxAgentRepository?: string;
    /** `bss:kafka.metadata`: a KRaft stack's controllers get policies, ZooKeeper none. Default `zookeeper`. */
    kafkaMetadata?: "zookeeper" | "kraft";
}

/**
 * Default deny of ingress and egress for every pod of the namespace, then one NetworkPolicy per workload and direction with
 * exactly the connections it needs (components/network-policy/policies.ts says why for each).
 */
export class NetworkPolicies extends pulumi.ComponentResource {
    /** Names of the NetworkPolicy objects, `default-deny` first. */
    readonly policyNames: string[];

    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:network-policy:NetworkPolicies", name, {}, opts);
        const policies = buildNetworkPolicies(args);
        for (const policy of policies) {
            new k8s.networking.v1.NetworkPolicy(`${name}-${policy.metadata.name}`, policy, { parent: this });
        }
        this.policyNames = policies.map((p) => p.metadata.name);
        this.registerOutputs({ policyNames: this.policyNames });
    }
}
