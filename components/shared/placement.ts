import * as k8s from "@pulumi/kubernetes";
import { Placement } from "../../settings/common";

/**
 * Spreads the pods of one workload over nodes. `required` refuses to put two on one node (a node loss then
 * costs one replica at most); `preferred` still spreads but lets a one-node kind cluster schedule them all.
 * Zones are always a preference: many clusters have fewer zones than replicas.
 */
export function spreadPods(placement: Placement, selector: Record<string, string>): k8s.types.input.core.v1.Affinity {
    const term = { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" };
    const zone = { weight: 50, podAffinityTerm: { labelSelector: { matchLabels: selector }, topologyKey: "topology.kubernetes.io/zone" } };
    return {
        podAntiAffinity: placement === "required"
            ? { requiredDuringSchedulingIgnoredDuringExecution: [term], preferredDuringSchedulingIgnoredDuringExecution: [zone] }
            : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }, zone] },
    };
}
