import * as k8s from "@pulumi/kubernetes";

/** The `data` volume claim of a StatefulSet pod: one ReadWriteOnce volume, the cluster's default class unless named. */
export function dataVolumeClaim(selector: Record<string, string>, size: string, storageClass?: string): k8s.types.input.core.v1.PersistentVolumeClaim {
    return {
        metadata: { name: "data", labels: selector },
        spec: {
            accessModes: ["ReadWriteOnce"],
            ...(storageClass ? { storageClassName: storageClass } : {}),
            resources: { requests: { storage: size } },
        },
    };
}
