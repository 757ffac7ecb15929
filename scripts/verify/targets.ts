/**
 * Where `verify` reaches each part of a deployed stack from the user's machine, worked out from the stack's
 * settings alone (plus the kind port map when the stack runs on the repository's kind cluster). Pure: the
 * plan says what to dial or which kubectl port-forward to open; verify.ts carries it out.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import type { Settings } from "../../settings";
import { CLIENT_PORT } from "../../components/redis/config";
import { NAMES as REDIS_NAMES } from "../../components/redis/manifests";
import { AKHQ_NAME, AKHQ_PORTS } from "../../components/akhq/config";

/** `fullnameOverride: kong` in charts/kong/values.yaml: the chart names its proxy Service `<fullname>-proxy`. */
export const KONG_PROXY_SERVICE = "kong-proxy";
/** `proxy.http.servicePort` in charts/kong/values.yaml. */
export const KONG_PROXY_HTTP_PORT = 80;

export type Endpoint =
    | { kind: "address"; host: string; port: number; source: string }
    | { kind: "url"; url: string; source: string }
    | { kind: "load-balancer"; service: string; port: number; source: string }
    | { kind: "port-forward"; resource: string; remotePort: number; source: string };

export interface VerifyPlan {
    kafka: { bootstrap: string[]; source: string };
    redis: Endpoint;
    /** The proxy's plain-HTTP listener. */
    kong: Endpoint;
    /** AKHQ's management port (health lives there, not on the UI port). */
    akhq: Endpoint;
}

/** Addresses given on the command line; each replaces what the settings say. */
export interface AddressOverrides {
    kafkaBootstrap?: string[];
    /** `host:port` of any Redis node. */
    redisAddress?: string;
    /** Base URL of the Kong proxy. */
    kongProxy?: string;
    /** Base URL of AKHQ's management port. */
    akhqUrl?: string;
}

/** kind's host port mappings: nodePort → the host address kind listens on for it. */
export interface KindPortMap {
    /** Cluster name (`kind-<name>` is its kubeconfig context). */
    cluster: string;
    ports: Map<number, { host: string; port: number }>;
}

/** Reads kind/cluster.yaml's `extraPortMappings` (containerPort = the fixed nodePort of the dev stack's Service). */
export function readKindPortMap(file: string): KindPortMap {
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { name?: string; nodes?: { extraPortMappings?: { containerPort: number; hostPort: number; listenAddress?: string }[] }[] };
    const ports = new Map<number, { host: string; port: number }>();
    for (const node of doc.nodes ?? []) {
        for (const m of node.extraPortMappings ?? []) {
            ports.set(m.containerPort, { host: m.listenAddress ?? "127.0.0.1", port: m.hostPort });
        }
    }
    return { cluster: doc.name ?? "kind", ports };
}

function parseAddress(text: string, what: string): { host: string; port: number } {
    const at = text.lastIndexOf(":");
    const port = Number(text.slice(at + 1));
    if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`${what} must be host:port, got ${JSON.stringify(text)}`);
    }
    return { host: text.slice(0, at), port };
}

/** Checks that every override is well formed; throws naming the flag and the value. */
export function checkOverrides(overrides: AddressOverrides): void {
    for (const address of overrides.kafkaBootstrap ?? []) {
        parseAddress(address, "--kafka-bootstrap");
    }
    if (overrides.redisAddress !== undefined) {
        parseAddress(overrides.redisAddress, "--redis-address");
    }
    for (const [flag, url] of [["--kong-proxy", overrides.kongProxy], ["--akhq-url", overrides.akhqUrl]] as const) {
        if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url)) {
            throw new Error(`${flag} must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
        }
    }
}

/**
 * @param settings the stack's validated settings
 * @param kubeContext the stack's `kubernetes:context`, if it sets one
 * @param kind kind's port map, applied when `kubeContext` is that kind cluster's context
 * @param overrides addresses from the command line
 */
export function planTargets(settings: Settings, kubeContext: string | undefined, kind: KindPortMap | undefined, overrides: AddressOverrides = {}): VerifyPlan {
    checkOverrides(overrides);
    const onKind = kind !== undefined && kubeContext === `kind-${kind.cluster}`;
    /** A NodePort as a machine outside the cluster dials it. */
    const nodePort = (port: number, key: string): Endpoint => {
        const mapped = onKind ? kind!.ports.get(port) : undefined;
        return mapped
            ? { kind: "address", host: mapped.host, port: mapped.port, source: `kind maps ${mapped.host}:${mapped.port} to nodePort ${port} (${key})` }
            : { kind: "address", host: settings.kafka.externalHost, port, source: `nodePort ${port} (${key}) on bss:kafka.externalHost` };
    };

    const kafka = overrides.kafkaBootstrap
        ? { bootstrap: overrides.kafkaBootstrap, source: "--kafka-bootstrap" }
        : { bootstrap: settings.kafka.externalPorts.map((port) => `${settings.kafka.externalHost}:${port}`), source: "bss:kafka.externalHost and externalPortBase (the EXTERNAL listeners)" };

    let redis: Endpoint;
    if (overrides.redisAddress !== undefined) {
        redis = { kind: "address", ...parseAddress(overrides.redisAddress, "--redis-address"), source: "--redis-address" };
    } else if (settings.redis.hostAccess) {
        redis = nodePort(settings.redis.nodePort, "bss:redis.nodePort");
    } else {
        redis = { kind: "port-forward", resource: `service/${REDIS_NAMES.clientService}`, remotePort: CLIENT_PORT, source: "bss:redis.hostAccess is off" };
    }

    let kong: Endpoint;
    if (overrides.kongProxy !== undefined) {
        kong = { kind: "url", url: overrides.kongProxy, source: "--kong-proxy" };
    } else if (settings.kong.proxyServiceType === "NodePort") {
        kong = nodePort(settings.kong.proxyHttpNodePort, "bss:kong.proxyHttpNodePort");
    } else if (settings.kong.proxyServiceType === "LoadBalancer") {
        kong = { kind: "load-balancer", service: KONG_PROXY_SERVICE, port: KONG_PROXY_HTTP_PORT, source: "bss:kong.proxyServiceType LoadBalancer" };
    } else {
        kong = { kind: "port-forward", resource: `service/${KONG_PROXY_SERVICE}`, remotePort: KONG_PROXY_HTTP_PORT, source: "bss:kong.proxyServiceType ClusterIP" };
    }

    const akhq: Endpoint = overrides.akhqUrl !== undefined
        ? { kind: "url", url: overrides.akhqUrl, source: "--akhq-url" }
        // No Service publishes the management port: health is for the kubelet and Prometheus, not for clients.
        : { kind: "port-forward", resource: `deployment/${AKHQ_NAME}`, remotePort: AKHQ_PORTS.management, source: "AKHQ's management port is in no Service" };

    return { kafka, redis, kong, akhq };
}
