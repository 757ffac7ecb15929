import { boolean, integer, object, oneOf, pinnedImage, Problems, quantityToBytes, shown, string } from "./fields";
import { ComputeResources, mergeResources, NodePortClaim, NODE_PORT_MAX, NODE_PORT_MIN, ResourcesInput, resourcesReader, SettingsContext } from "./common";

export interface AkhqSettings {
    image: string;
    /** UI Service type: NodePort in dev (kind maps it to host port 8083), ClusterIP elsewhere (reached through Kong's /akhq). */
    serviceType: "NodePort" | "ClusterIP";
    /** Fixed nodePort of the UI Service when it is a NodePort (default 30083). */
    nodePort: number;
    /** Path AKHQ serves under, the same directly and behind Kong. */
    contextPath: string;
    /** AKHQ's own basic authentication (on by default outside dev). */
    authEnabled: boolean;
    /** Default: requests 100m/512Mi (256Mi in dev), limits 1/512Mi; the memory limit is at least 384Mi. */
    resources: ComputeResources;
}

interface AkhqInput extends Omit<AkhqSettings, "resources"> {
    resources: Partial<ResourcesInput>;
}

const reader = object<AkhqInput>({
    image: pinnedImage,
    serviceType: oneOf("NodePort", "ClusterIP"),
    nodePort: integer(NODE_PORT_MIN, NODE_PORT_MAX),
    contextPath: string(/^\/[a-z0-9-]+$/, "a path such as \"/akhq\""),
    authEnabled: boolean,
    resources: resourcesReader,
});

export function readAkhq(raw: unknown, ctx: SettingsContext, problems: Problems): AkhqSettings {
    const given = reader("bss:akhq", raw, problems) ?? {};
    return {
        image: given.image ?? "tchiotludo/akhq:0.25.1",
        serviceType: given.serviceType ?? (ctx.environment === "dev" ? "NodePort" : "ClusterIP"),
        nodePort: given.nodePort ?? 30083,
        contextPath: given.contextPath ?? "/akhq",
        authEnabled: given.authEnabled ?? ctx.environment !== "dev",
        resources: checkedResources(mergeResources(
            // A dev stack must fit one laptop kind node (4 GiB of requests); the heap follows the limit.
            { requests: { cpu: "100m", memory: ctx.environment === "dev" ? "256Mi" : "512Mi" }, limits: { cpu: "1", memory: "512Mi" } },
            given.resources,
        ), problems),
    };
}

/** AKHQ's JVM gets half of the memory limit as heap (components/akhq/config.ts) and needs 192Mi or more of it. */
export const AKHQ_MIN_MEMORY_LIMIT = "384Mi";

function checkedResources(resources: ComputeResources, problems: Problems): ComputeResources {
    const limit = quantityToBytes(resources.limits.memory);
    if (limit < quantityToBytes(AKHQ_MIN_MEMORY_LIMIT)) {
        problems.push(`bss:akhq.resources.limits.memory must be at least ${AKHQ_MIN_MEMORY_LIMIT} (half of it is the JVM heap, AKHQ needs 192Mi or more), got ${shown(resources.limits.memory)}`);
    }
    if (quantityToBytes(resources.requests.memory) > limit) {
        problems.push(`bss:akhq.resources.requests.memory must not exceed bss:akhq.resources.limits.memory (${resources.limits.memory}), got ${shown(resources.requests.memory)}`);
    }
    return resources;
}

export function akhqNodePorts(akhq: AkhqSettings): NodePortClaim[] {
    return akhq.serviceType === "NodePort" ? [{ key: "bss:akhq.nodePort", port: akhq.nodePort }] : [];
}
