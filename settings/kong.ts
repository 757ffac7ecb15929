import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as yaml from "js-yaml";
import { integer, listOf, object, oneOf, pinnedImage, Problems, Reader, shown, string, url } from "./fields";
import { ComputeResources, mergeResources, NodePortClaim, NODE_PORT_MAX, NODE_PORT_MIN, Placement, ResourcesInput, resourcesReader, SettingsContext } from "./common";

export type ServiceType = "NodePort" | "LoadBalancer" | "ClusterIP";
export type LoadBalancing = "round-robin" | "least-connections";
/** Where Kong learns a client's address when a proxy or load balancer sits in front of it. */
export type RealIpHeader = "X-Forwarded-For" | "X-Real-IP" | "proxy_protocol";

/** The Kong charts repository, the default source of the chart. */
export const KONG_CHART_REPO = "https://charts.konghq.com";

/**
 * Where the `kong` chart comes from (`bss:kong.chart`): a chart repository, an OCI registry, or a chart on
 * this machine (air-gapped networks reach no repository at all).
 */
export type ChartSource =
    | { kind: "repository"; repo: string }
    | { kind: "oci"; reference: string }
    /** As written in the setting: relative paths start at the project directory, where Pulumi runs. */
    | { kind: "local"; path: string };

/** An upstream Kong routes to, `host:port` inside the cluster. */
export interface HostPort {
    host: string;
    port: number;
}

export interface KongSettings {
    /** Where the chart comes from; default: the Kong charts repository. */
    chart: ChartSource;
    /** Exact version of the `kong` chart (a local chart must be this version); default `3.4.1`. */
    chartVersion: string;
    /** Kong image, pinned to the patch (the chart's default tag floats). */
    image: string;
    /** Kong pods; a PodDisruptionBudget is created only above 1 (the chart refuses one with a single replica). */
    replicas: number;
    /** Spreading of the Kong pods over nodes: `required` outside dev. */
    placement: Placement;
    /** Requests and limits of the Kong container; default requests 250m/512Mi (256Mi in dev), limits 1/1Gi. */
    resources: ComputeResources;
    /** Proxy Service type; default: `NodePort` in dev (kind maps it to the host's loopback), `LoadBalancer` otherwise. */
    proxyServiceType: ServiceType;
    /** Fixed nodePort of the proxy's HTTP port; default 30800. */
    proxyHttpNodePort: number;
    /** Fixed nodePort of the proxy's HTTPS port; default 30843. */
    proxyTlsNodePort: number;
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
    /**
     * Header (or PROXY protocol) carrying the client address from the load balancer in front of Kong;
     * unset: Kong uses the connection's source address.
     */
    realIpHeader?: RealIpHeader;
    /** Addresses of the proxies Kong believes `realIpHeader` from (Kong's `trusted_ips`); unset with it. */
    trustedIps?: string[];
    /**
     * An existing `kubernetes.io/tls` Secret (in the stack's namespace) the proxy's TLS listener serves instead of a
     * certificate from `bss:tls`; unset: the `bss:tls` source's certificate (or, with `off`, Kong's built-in one).
     */
    tlsSecret?: string;
    /** Public names clients reach the proxy by: extra DNS names of the proxy's certificate. Default: none. */
    hostnames: string[];
}

/** Path prefixes Kong routes besides AKHQ's context path (components/kong/declarative.ts builds the routes). */
export const KONG_FIXED_PATHS = ["/api", "/grafana", "/prometheus", "/jaeger", "/pghero"] as const;

const hostPortText = string(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, "\"host:port\"");

export function parseHostPort(text: string): HostPort {
    const at = text.lastIndexOf(":");
    return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

interface KongInput {
    chart: ChartSource;
    chartVersion: string;
    image: string;
    replicas: number;
    placement: Placement;
    resources: Partial<ResourcesInput>;
    proxyServiceType: ServiceType;
    proxyHttpNodePort: number;
    proxyTlsNodePort: number;
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
    realIpHeader: RealIpHeader;
    trustedIps: string[];
    tlsSecret: string;
    hostnames: string[];
}

/** An IPv4 address or CIDR block, as Kong's ip-restriction plugin takes them. */
const IPV4_CIDR = /^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\/(3[0-2]|[12]?[0-9]))?$/;

const nodePort = integer(NODE_PORT_MIN, NODE_PORT_MAX);

const ipv4Cidr = string(IPV4_CIDR, "an IPv4 address or CIDR block such as \"10.0.0.0/8\"");

const dns1123Subdomain = string(/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "a Secret name (lowercase letters, digits, '-' and '.')");
/** A DNS name a certificate can carry: labels of letters, digits and '-', a leading `*.` for a wildcard. */
const dnsName = string(/^(?=.{1,253}$)(\*\.)?([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/, "a DNS name such as \"api.example.com\" or \"*.example.com\"");

/** A URL scheme: anything else in `bss:kong.chart` is a path on this machine. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** `oci://host[:port]/path/name`: the version comes from `chartVersion`, so no tag or digest. */
const OCI_REFERENCE = /^oci:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)+$/;

/** The text of `<chart>/Chart.yaml` inside a packaged chart (a gzipped tar), or undefined when it holds none. */
export function chartYamlOfArchive(file: string): string | undefined {
    const tar = zlib.gunzipSync(fs.readFileSync(file));
    const field = (header: Buffer, start: number, length: number) => header.toString("utf8", start, start + length).replace(/\0.*$/s, "");
    for (let offset = 0; offset + 512 <= tar.length;) {
        const header = tar.subarray(offset, offset + 512);
        if (header.every((byte) => byte === 0)) {
            return undefined;
        }
        const prefix = field(header, 345, 155);
        const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
        const size = parseInt(field(header, 124, 12).trim() || "0", 8);
        const body = offset + 512;
        if (/^(\.\/)?[^/]+\/Chart\.yaml$/.test(name)) {
            return tar.toString("utf8", body, body + size);
        }
        offset = body + Math.ceil(size / 512) * 512;
    }
    return undefined;
}

/**
 * Checks a local chart (directory or `.tgz`) against the chart this program is written for. Returns the
 * problem, or undefined when the path holds the `kong` chart at `chartVersion`.
 */
export function localChartProblem(key: string, given: string, chartVersion: string, baseDir: string = process.cwd()): string | undefined {
    const full = path.resolve(baseDir, given);
    const stat = fs.statSync(full, { throwIfNoEntry: false });
    if (!stat) {
        return `${key} must be a chart repository URL, an oci:// reference or an existing chart directory or .tgz (relative paths start at ${baseDir}); nothing is at ${full}, got ${shown(given)}`;
    }
    let text: string | undefined;
    if (stat.isDirectory()) {
        const chartFile = path.join(full, "Chart.yaml");
        text = fs.existsSync(chartFile) ? fs.readFileSync(chartFile, "utf8") : undefined;
    } else {
        try {
            text = chartYamlOfArchive(full);
        } catch {
            text = undefined;
        }
    }
    if (text === undefined) {
        return `${key} must be a chart directory holding Chart.yaml or a packaged chart (.tgz from helm pull), got ${shown(given)}`;
    }
    const chart = (yaml.load(text) ?? {}) as { name?: unknown; version?: unknown };
    if (chart.name !== "kong") {
        return `${key} must hold the kong chart, got ${shown(given)} (chart ${shown(chart.name)})`;
    }
    if (String(chart.version) !== chartVersion) {
        return `${key} must hold kong chart ${chartVersion} (bss:kong.chartVersion), got ${shown(given)} (version ${shown(chart.version)})`;
    }
    return undefined;
}

/** Sorts `bss:kong.chart` into its form; a local chart's content is checked once `chartVersion` is known. */
const chartSource: Reader<ChartSource> = (key, value, problems) => {
    if (typeof value !== "string" || value.length === 0) {
        problems.push(`${key} must be a chart repository URL (https://...), an oci:// reference or the path of a chart directory or .tgz, got ${shown(value)}`);
        return undefined;
    }
    if (value.startsWith("oci://")) {
        if (!OCI_REFERENCE.test(value)) {
            problems.push(`${key} must be an oci:// reference such as "oci://registry.example.com/charts/kong", without a tag or digest (bss:kong.chartVersion is the version), got ${shown(value)}`);
            return undefined;
        }
        return { kind: "oci", reference: value };
    }
    if (SCHEME.test(value)) {
        const repo = url(key, value, []);
        if (repo === undefined) {
            problems.push(`${key} must be a chart repository URL (http:// or https://), an oci:// reference or the path of a chart directory or .tgz, got ${shown(value)}`);
            return undefined;
        }
        return { kind: "repository", repo };
    }
    return { kind: "local", path: value };
};

const reader = object<KongInput>({
    chart: chartSource,
    chartVersion: string(/^[0-9]+\.[0-9]+\.[0-9]+$/, "an exact chart version such as \"3.4.1\""),
    image: pinnedImage,
    replicas: integer(1, 20),
    placement: oneOf("preferred", "required"),
    resources: resourcesReader,
    proxyServiceType: oneOf("NodePort", "LoadBalancer", "ClusterIP"),
    proxyHttpNodePort: nodePort,
    proxyTlsNodePort: nodePort,
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
    toolAllowedCidrs: listOf(ipv4Cidr, 1),
    realIpHeader: oneOf("X-Forwarded-For", "X-Real-IP", "proxy_protocol"),
    trustedIps: listOf(ipv4Cidr, 1),
    tlsSecret: dns1123Subdomain,
    hostnames: listOf(dnsName, 1),
});

/** A CPU quantity: whole or fractional cores (`2`, `1.5`) or millicores (`500m`). */
const CPU_QUANTITY = /^([0-9]+(\.[0-9]+)?|[0-9]+m)$/;

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
    const present = (field: keyof KongInput) => typeof raw === "object" && raw !== null && field in raw;
    const chartVersion = given.chartVersion ?? "3.4.1";
    const chart = given.chart ?? { kind: "repository", repo: KONG_CHART_REPO };
    // With a refused chartVersion there is no version to hold the local chart to.
    const versionRefused = present("chartVersion") && given.chartVersion === undefined;
    if (chart.kind === "local" && !versionRefused) {
        const problem = localChartProblem("bss:kong.chart", chart.path, chartVersion);
        if (problem !== undefined) {
            problems.push(problem);
        }
    }
    if (present("trustedIps") && !present("realIpHeader")) {
        problems.push(`bss:kong.trustedIps is only read with bss:kong.realIpHeader (the header those proxies set), got ${shown((raw as Record<string, unknown>).trustedIps)} and no realIpHeader`);
    }
    if (present("realIpHeader") && !present("trustedIps")) {
        problems.push(`bss:kong.trustedIps must list the load balancers or proxies that set bss:kong.realIpHeader (Kong ignores it from anyone else), got nothing`);
    }
    // Trusting every address lets any client name its own address in the header and walk past ip-restriction.
    given.trustedIps?.forEach((cidr, i) => {
        if (/\/0$/.test(cidr)) {
            problems.push(`bss:kong.trustedIps[${i}] must not trust every address (any client could then choose the address Kong sees), got ${shown(cidr)}`);
        }
    });
    const resources = mergeResources(
        // A dev stack must fit one laptop kind node (4 GiB of requests).
        { requests: { cpu: "250m", memory: dev ? "256Mi" : "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        given.resources,
    );
    // Kong's worker count is derived from the CPU limit, so a memory-style quantity here would be nonsense.
    if (!CPU_QUANTITY.test(resources.limits.cpu)) {
        problems.push(`bss:kong.resources.limits.cpu must be a CPU quantity such as "500m" or "2", got ${shown(resources.limits.cpu)}`);
    }
    return {
        chart,
        chartVersion,
        image: given.image ?? "kong:3.9.3",
        replicas: given.replicas ?? (dev ? 1 : 2),
        placement: given.placement ?? (dev ? "preferred" : "required"),
        resources,
        proxyServiceType: given.proxyServiceType ?? (dev ? "NodePort" : "LoadBalancer"),
        proxyHttpNodePort: given.proxyHttpNodePort ?? 30800,
        proxyTlsNodePort: given.proxyTlsNodePort ?? 30843,
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
        realIpHeader: given.realIpHeader,
        trustedIps: given.trustedIps,
        tlsSecret: given.tlsSecret,
        hostnames: given.hostnames ?? [],
    };
}

export function kongNodePorts(kong: KongSettings): NodePortClaim[] {
    const claims: NodePortClaim[] = [];
    if (kong.proxyServiceType !== "ClusterIP") {
        claims.push({ key: "bss:kong.proxyHttpNodePort", port: kong.proxyHttpNodePort }, { key: "bss:kong.proxyTlsNodePort", port: kong.proxyTlsNodePort });
    }
    return claims;
}

