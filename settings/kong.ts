import { integer, listOf, object, oneOf, pinnedImage, Problems, shown, string, url } from "./fields";
import { ComputeResources, mergeResources, NodePortClaim, NODE_PORT_MAX, NODE_PORT_MIN, Placement, ResourcesInput, resourcesReader, SettingsContext } from "./common";

export type ServiceType = "NodePort" | "LoadBalancer" | "ClusterIP";
export type LoadBalancing = "round-robin" | "least-connections";

/** An upstream Kong routes to, `host:port` inside the cluster. */
export interface HostPort {
    host: string;
    port: number;
}

export interface KongSettings {
    /** Version of the `kong` chart from the Kong charts repository. */
    chartVersion: string;
    /** Kong image, pinned to the patch (the chart's default tag floats). */
    image: string;
    /** Kong pods; a PodDisruptionBudget is created only above 1 (the chart refuses one with a single replica). */
    replicas: number;
    /** Spreading of the Kong pods over nodes: `required` outside dev. */
    placement: Placement;
    /** Requests and limits of the Kong container. */
    resources: ComputeResources;
    proxyServiceType: ServiceType;
    proxyHttpNodePort: number;
    proxyTlsNodePort: number;
    /** Admin API Service type: NodePort only in dev (kind maps it to the host's loopback), ClusterIP otherwise. */
    adminServiceType: "NodePort" | "ClusterIP";
    adminHttpNodePort: number;
    adminTlsNodePort: number;
    /** Targets of the bss-backend upstream. */
    backendTargets: HostPort[];
    loadBalancing: LoadBalancing;
    corsOrigins: string[];
    rateLimitPerMinute: number;
    rateLimitPolicy: "local" | "redis";
    /** Redis for the `redis` rate-limit policy (a single Redis endpoint: the open-source plugin does not speak cluster). */
    rateLimitRedis?: HostPort;
    requestSizeLimitMb: number;
    /** Where http-log sends Kong's JSON log lines (a collector in front of Loki); unset: no http-log. */
    httpLogEndpoint?: string;
    grafana: HostPort;
    prometheus: HostPort;
    jaeger: HostPort;
    pghero: HostPort;
    /**
     * Client networks allowed on the tool UIs (/grafana, /prometheus, /jaeger, /pghero, /akhq) in addition to
     * their basic-auth login; unset: basic-auth alone.
     */
    toolAllowedCidrs?: string[];
}

/** Path prefixes Kong routes besides AKHQ's context path (components/kong/declarative.ts builds the routes). */
export const KONG_FIXED_PATHS = ["/api", "/grafana", "/prometheus", "/jaeger", "/pghero"] as const;

const hostPortText = string(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, "\"host:port\"");

export function parseHostPort(text: string): HostPort {
    const at = text.lastIndexOf(":");
    return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

interface KongInput {
    chartVersion: string;
    image: string;
    replicas: number;
    placement: Placement;
    resources: Partial<ResourcesInput>;
    proxyServiceType: ServiceType;
    proxyHttpNodePort: number;
    proxyTlsNodePort: number;
    adminServiceType: "NodePort" | "ClusterIP";
    adminHttpNodePort: number;
    adminTlsNodePort: number;
    backendTargets: string[];
    loadBalancing: LoadBalancing;
    corsOrigins: string[];
    rateLimitPerMinute: number;
    rateLimitPolicy: "local" | "redis";
    rateLimitRedis: string;
    requestSizeLimitMb: number;
    httpLogEndpoint: string;
    grafana: string;
    prometheus: string;
    jaeger: string;
    pghero: string;
    toolAllowedCidrs: string[];
}

/** An IPv4 address or CIDR block, as Kong's ip-restriction plugin takes them. */
const IPV4_CIDR = /^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\/(3[0-2]|[12]?[0-9]))?$/;

const nodePort = integer(NODE_PORT_MIN, NODE_PORT_MAX);

const reader = object<KongInput>({
    chartVersion: string(/^[0-9]+\.[0-9]+\.[0-9]+$/, "an exact chart version such as \"3.4.1\""),
    image: pinnedImage,
    replicas: integer(1, 20),
    placement: oneOf("preferred", "required"),
    resources: resourcesReader,
    proxyServiceType: oneOf("NodePort", "LoadBalancer", "ClusterIP"),
    proxyHttpNodePort: nodePort,
    proxyTlsNodePort: nodePort,
    adminServiceType: oneOf("NodePort", "ClusterIP"),
    adminHttpNodePort: nodePort,
    adminTlsNodePort: nodePort,
    backendTargets: listOf(hostPortText, 1),
    loadBalancing: oneOf("round-robin", "least-connections"),
    corsOrigins: listOf(string(/^(\*|https?:\/\/[^\s/]+)$/, "\"*\" or an origin such as \"https://app.example.com\""), 1),
    rateLimitPerMinute: integer(1),
    rateLimitPolicy: oneOf("local", "redis"),
    rateLimitRedis: hostPortText,
    requestSizeLimitMb: integer(1, 1024),
    httpLogEndpoint: url,
    grafana: hostPortText,
    prometheus: hostPortText,
    jaeger: hostPortText,
    pghero: hostPortText,
    toolAllowedCidrs: listOf(string(IPV4_CIDR, "an IPv4 address or CIDR block such as \"10.0.0.0/8\""), 1),
});

export function readKong(raw: unknown, ctx: SettingsContext, problems: Problems): KongSettings {
    const given = reader("bss:kong", raw, problems) ?? {};
    const dev = ctx.environment === "dev";
    const ns = ctx.namespace;
    const rateLimitPolicy = given.rateLimitPolicy ?? "local";
    if (rateLimitPolicy === "redis" && given.rateLimitRedis === undefined) {
        problems.push(`bss:kong.rateLimitRedis must be set ("host:port") when bss:kong.rateLimitPolicy is "redis", got nothing`);
    }
    if (rateLimitPolicy === "local" && given.rateLimitRedis !== undefined) {
        problems.push(`bss:kong.rateLimitRedis is only read when bss:kong.rateLimitPolicy is "redis" (the policy is "local"), got ${shown(given.rateLimitRedis)}`);
    }
    const adminServiceType = given.adminServiceType ?? (dev ? "NodePort" : "ClusterIP");
    // A NodePort opens the Admin API on every node address; only kind's loopback-bound port mapping makes that safe.
    if (!dev && adminServiceType === "NodePort") {
        problems.push(`bss:kong.adminServiceType must be "ClusterIP" outside dev (a NodePort exposes the Admin API on every node), got "NodePort"`);
    }
    return {
        chartVersion: given.chartVersion ?? "3.4.1",
        image: given.image ?? "kong:3.9.3",
        replicas: given.replicas ?? (dev ? 1 : 2),
        placement: given.placement ?? (dev ? "preferred" : "required"),
        resources: mergeResources(
            { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
            given.resources,
        ),
        proxyServiceType: given.proxyServiceType ?? (dev ? "NodePort" : "LoadBalancer"),
        proxyHttpNodePort: given.proxyHttpNodePort ?? 30800,
        proxyTlsNodePort: given.proxyTlsNodePort ?? 30843,
        adminServiceType,
        adminHttpNodePort: given.adminHttpNodePort ?? 30801,
        adminTlsNodePort: given.adminTlsNodePort ?? 30844,
        backendTargets: (given.backendTargets ?? [`bss-backend.${ns}.svc.cluster.local:8080`]).map(parseHostPort),
        loadBalancing: given.loadBalancing ?? "round-robin",
        corsOrigins: given.corsOrigins ?? ["http://localhost:3000"],
        rateLimitPerMinute: given.rateLimitPerMinute ?? 1000,
        rateLimitPolicy,
        rateLimitRedis: given.rateLimitRedis === undefined ? undefined : parseHostPort(given.rateLimitRedis),
        requestSizeLimitMb: given.requestSizeLimitMb ?? 10,
        httpLogEndpoint: given.httpLogEndpoint,
        grafana: parseHostPort(given.grafana ?? "grafana.monitoring.svc.cluster.local:80"),
        prometheus: parseHostPort(given.prometheus ?? "prometheus-server.monitoring.svc.cluster.local:80"),
        jaeger: parseHostPort(given.jaeger ?? "jaeger-query.monitoring.svc.cluster.local:16686"),
        pghero: parseHostPort(given.pghero ?? `pghero.${ns}.svc.cluster.local:8080`),
        toolAllowedCidrs: given.toolAllowedCidrs,
    };
}

export function kongNodePorts(kong: KongSettings): NodePortClaim[] {
    const claims: NodePortClaim[] = [];
    if (kong.proxyServiceType !== "ClusterIP") {
        claims.push({ key: "bss:kong.proxyHttpNodePort", port: kong.proxyHttpNodePort }, { key: "bss:kong.proxyTlsNodePort", port: kong.proxyTlsNodePort });
    }
    if (kong.adminServiceType === "NodePort") {
        claims.push({ key: "bss:kong.adminHttpNodePort", port: kong.adminHttpNodePort }, { key: "bss:kong.adminTlsNodePort", port: kong.adminTlsNodePort });
    }
    return claims;
}

