import { boolean, integer, object, pinnedImage, Problems, string } from "./fields";
import { ComputeResources, mergeResources, NodePortClaim, NODE_PORT_MAX, NODE_PORT_MIN, ResourcesInput, resourcesReader, SettingsContext } from "./common";

export interface AkhqSettings {
    image: string;
    /** Fixed nodePort of the UI Service (dev: mapped to host port 8083). */
    nodePort: number;
    /** Path AKHQ serves under, the same directly and behind Kong. */
    contextPath: string;
    /** AKHQ's own basic authentication (on by default outside dev). */
    authEnabled: boolean;
    resources: ComputeResources;
}

interface AkhqInput extends Omit<AkhqSettings, "resources"> {
    resources: Partial<ResourcesInput>;
}

const reader = object<AkhqInput>({
    image: pinnedImage,
    nodePort: integer(NODE_PORT_MIN, NODE_PORT_MAX),
    contextPath: string(/^\/[a-z0-9-]+$/, "a path such as \"/akhq\""),
    authEnabled: boolean,
    resources: resourcesReader,
});

export function readAkhq(raw: unknown, ctx: SettingsContext, problems: Problems): AkhqSettings {
    const given = reader("bss:akhq", raw, problems) ?? {};
    return {
        image: given.image ?? "tchiotludo/akhq:0.25.1",
        nodePort: given.nodePort ?? 30083,
        contextPath: given.contextPath ?? "/akhq",
        authEnabled: given.authEnabled ?? ctx.environment !== "dev",
        resources: mergeResources(
            { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "512Mi" } },
            given.resources,
        ),
    };
}

export function akhqNodePorts(akhq: AkhqSettings): NodePortClaim[] {
    return [{ key: "bss:akhq.nodePort", port: akhq.nodePort }];
}
