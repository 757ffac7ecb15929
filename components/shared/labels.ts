/** Labels every object of the stack carries, so `kubectl get all -l app.kubernetes.io/part-of=bss` finds them. */
export const PART_OF = "bss";

/** The stable subset used in selectors: changing a selector of a StatefulSet or Deployment is refused by the API server. */
export function selectorLabels(component: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/part-of": PART_OF,
    };
}

/** Selector labels plus the descriptive ones (version, manager) that may change between releases. */
export function labels(component: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
        ...selectorLabels(component),
        "app.kubernetes.io/managed-by": "pulumi",
        ...extra,
    };
}

/** The version part of an image reference, for the `app.kubernetes.io/version` label. */
export function imageVersion(image: string): string {
    const at = image.indexOf("@");
    if (at >= 0) {
        return image.slice(at + 1 + "sha256:".length, at + 1 + "sha256:".length + 12);
    }
    return image.slice(image.lastIndexOf(":") + 1);
}
