/**
 * The BSS core infrastructure stack. Reads and validates the stack settings first (nothing is created on
 * bad input), then deploys each capability into one namespace.
 */
import * as k8s from "@pulumi/kubernetes";
import { readStackSettings } from "./settings/stack";
import { labels } from "./components/shared/labels";

const settings = readStackSettings();

const namespace = new k8s.core.v1.Namespace("namespace", {
    metadata: {
        name: settings.namespace,
        labels: {
            ...labels("bss"),
            // Every workload here meets "restricted"; the Kong chart's pods are held to "baseline" only.
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        },
    },
});

export const namespaceName = namespace.metadata.name;
export const environment = settings.environment;
