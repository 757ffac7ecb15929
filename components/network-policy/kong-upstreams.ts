/**
 * Where Kong opens connections: read from the declarative config Kong is given (services, upstream targets, the
 * rate-limit Redis, the http-log endpoint), so a route added in components/kong/declarative.ts is covered here
 * without a second list to keep in step.
 */
import { AkhqSettings } from "../../settings/akhq";
import { HostPort, KongSettings } from "../../settings/kong";
import { KONG_CONSUMERS, KongConsumer } from "../../settings";
import { AKHQ_NAME, AKHQ_PORTS } from "../akhq/config";
import { buildKongConfig, KongDeclarativeConfig } from "../kong/declarative";
import { CLUSTER_DOMAIN } from "../zookeeper/config";

/** Where an upstream lives, as far as a NetworkPolicy can tell from its host name. */
export type UpstreamPlace =
    | { kind: "namespace"; namespace: string }
    | { kind: "address"; cidr: string }
    | { kind: "outside" };

export interface KongUpstream extends HostPort {
    place: UpstreamPlace;
}

/** Credentials do not change where Kong connects: the config is built with stand-ins. */
const STAND_IN = "networkpolicystandin";

/** The address Kong's AKHQ service targets; the same Service name and port index.ts hands the gateway. */
export function akhqEndpoint(namespace: string, akhq: AkhqSettings) {
    return { host: `${AKHQ_NAME}.${namespace}.svc.${CLUSTER_DOMAIN}`, port: AKHQ_PORTS.http, contextPath: akhq.contextPath };
}

/** Every `host:port` the config makes Kong dial, each once. */
export function kongDestinations(config: KongDeclarativeConfig): HostPort[] {
    const upstreamNames = new Set(config.upstreams.map((u) => u.name));
    const found: HostPort[] = [];
    for (const service of config.services) {
        if (!upstreamNames.has(service.host)) {
            found.push({ host: service.host, port: service.port });
        }
    }
    for (const upstream of config.upstreams) {
        for (const { target } of upstream.targets) {
            const at = target.lastIndexOf(":");
            found.push({ host: target.slice(0, at), port: Number(target.slice(at + 1)) });
        }
    }
    for (const plugin of config.plugins) {
        const redis = plugin.config.redis as { host?: string; port?: number } | undefined;
        if (plugin.name === "rate-limiting" && redis?.host && redis.port) {
            found.push({ host: redis.host, port: redis.port });
        }
        if (plugin.name === "http-log" && typeof plugin.config.http_endpoint === "string") {
            const url = new URL(plugin.config.http_endpoint);
            found.push({ host: url.hostname, port: url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80 });
        }
    }
    const unique = new Map(found.map((d) => [`${d.host}:${d.port}`, d]));
    return [...unique.values()];
}

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

/**
 * A bare Service name resolves in Kong's own namespace, `<service>.<namespace>.svc[.cluster.local]` in that
 * namespace, an IPv4 literal is itself; any other name is taken to be outside the cluster.
 */
export function upstreamPlace(host: string, namespace: string): UpstreamPlace {
    const name = host.toLowerCase().replace(/\.$/, "");
    if (IPV4.test(name)) {
        return { kind: "address", cidr: `${name}/32` };
    }
    if (!name.includes(".")) {
        return { kind: "namespace", namespace };
    }
    const inCluster = new RegExp(`^[a-z0-9-]+\\.([a-z0-9-]+)\\.svc(\\.${CLUSTER_DOMAIN.replace(/\./g, "\\.")})?$`).exec(name);
    return inCluster ? { kind: "namespace", namespace: inCluster[1] } : { kind: "outside" };
}

/** Where the gateway of these settings connects, with the place of each destination. */
export function kongUpstreams(namespace: string, kong: KongSettings, akhq: AkhqSettings): KongUpstream[] {
    const config = buildKongConfig(kong, akhqEndpoint(namespace, akhq), {
        apiKeys: Object.fromEntries(KONG_CONSUMERS.map((c) => [c, [`${STAND_IN}${c}`]])) as Record<KongConsumer, string[]>,
        operatorPassword: STAND_IN,
    });
    return kongDestinations(config).map((d) => ({ ...d, place: upstreamPlace(d.host, namespace) }));
}
