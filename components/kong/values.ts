/**
 * Values for the `kong` chart: the shared base file `charts/kong/values.yaml` with the stack's settings merged
 * over it. Pure: the component passes in the config Secret's name and the checksum of its content.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { KongSettings } from "../../settings/kong";
import { spreadPods } from "../shared/placement";
import { containerSecurityContext, podSecurityContext } from "../shared/security";
import { CONFIG_CHECKSUM_ANNOTATION } from "../shared/checksum";

export const BASE_VALUES_FILE = path.resolve(__dirname, "..", "..", "charts", "kong", "values.yaml");
/** The official image runs Kong as user `kong`, uid/gid 1000. */
export const KONG_UID = 1000;
/** Labels the chart puts on the Kong pods (release `kong`, fullnameOverride `kong`). */
export const KONG_POD_SELECTOR = { "app.kubernetes.io/name": "kong", "app.kubernetes.io/instance": "kong" };

type Values = Record<string, unknown>;

export function loadBaseValues(file: string = BASE_VALUES_FILE): Values {
    return (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as Values;
}

function isMap(value: unknown): value is Values {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Helm's merge: maps merge key by key, anything else (lists included) from `over` replaces `base`. */
export function deepMerge(base: Values, over: Values): Values {
    const merged: Values = { ...base };
    for (const [key, value] of Object.entries(over)) {
        merged[key] = isMap(value) && isMap(base[key]) ? deepMerge(base[key] as Values, value) : value;
    }
    return merged;
}

/** `repo:tag` → the chart's `image.repository` and `image.tag`; a digest goes to the tag as Helm allows. */
export function splitImage(image: string): { repository: string; tag: string } {
    const at = image.indexOf("@");
    if (at >= 0) {
        return { repository: image.slice(0, at), tag: image.slice(at + 1) };
    }
    const colon = image.lastIndexOf(":");
    return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
}

export interface ValuesInputs {
    /** Name of the Secret holding `kong.yml`. */
    configSecretName: string;
    /** SHA-256 of the config text: pods roll when it changes (the chart restarts them only for inline configs). */
    configChecksum: string;
    /** The proxy's certificate Secret and its roll checksum; unset: Kong's built-in self-signed certificate. */
    proxyCertificate?: { secretName: string; checksum: string };
}

/** Pod annotation whose change rolls Kong onto a new proxy certificate (nginx reads it only at start). */
export const TLS_CHECKSUM_ANNOTATION = "bss/tls-checksum";

/**
 * Serves the certificate in `secretName` on the proxy's TLS listener: the chart mounts each `secretVolumes` Secret at
 * `/etc/secrets/<name>/`, and Kong's `ssl_cert`/`ssl_cert_key` name the files.
 */
export function proxyCertificateOverrides(certificate: { secretName: string; checksum: string }): Values {
    const dir = `/etc/secrets/${certificate.secretName}`;
    return {
        secretVolumes: [certificate.secretName],
        env: { ssl_cert: `${dir}/tls.crt`, ssl_cert_key: `${dir}/tls.key` },
        podAnnotations: { [TLS_CHECKSUM_ANNOTATION]: certificate.checksum },
    };
}

/** Cores in a CPU quantity (`500m` → 0.5, `2` → 2). */
export function cpuCores(quantity: string): number {
    const match = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(quantity);
    if (!match) {
        throw new Error(`not a CPU quantity: ${quantity}`);
    }
    return Number(match[1]) / (match[2] === "m" ? 1000 : 1);
}

/**
 * Nginx workers for a CPU limit: each worker is one single-threaded process, so a worker per started core
 * (at least one) uses the whole limit, and any more only adds a worker's memory for no throughput.
 */
export function nginxWorkerProcesses(cpuLimit: string): number {
    return Math.max(1, Math.ceil(cpuCores(cpuLimit)));
}

/**
 * Kong's client-address settings. Behind a NodePort or LoadBalancer with `externalTrafficPolicy: Cluster`
 * the node masquerades every connection, so ip-restriction would see node addresses; `Local` keeps the
 * client's. A proxy in front that names the client in a header or in PROXY protocol is trusted only from
 * `trustedIps`.
 */
export function clientAddressOverrides(settings: KongSettings): Values {
    const exposed = settings.proxyServiceType !== "ClusterIP";
    const proxy: Values = exposed && settings.toolAllowedCidrs !== undefined ? { externalTrafficPolicy: "Local" } : {};
    const env: Values = {};
    if (settings.realIpHeader !== undefined && settings.trustedIps !== undefined) {
        env.real_ip_header = settings.realIpHeader;
        env.trusted_ips = settings.trustedIps.join(",");
        // The client is the last untrusted address of the chain, not whatever the client wrote first.
        env.real_ip_recursive = settings.realIpHeader === "X-Forwarded-For" ? "on" : "off";
        if (settings.realIpHeader === "proxy_protocol") {
            // The chart's proxy.tls default is [http2]: a list replaces it, so it is repeated here.
            proxy.http = { parameters: ["proxy_protocol"] };
            proxy.tls = { parameters: ["http2", "proxy_protocol"] };
        }
    }
    return { proxy, env };
}

/** What the stack's settings change in the base values. */
export function stackOverrides(settings: KongSettings, inputs: ValuesInputs): Values {
    const nodePorts = (type: string, http: number, tls: number) => (type === "ClusterIP" ? {} : { http: { nodePort: http }, tls: { nodePort: tls } });
    const client = clientAddressOverrides(settings);
    return deepMerge({
        env: { nginx_worker_processes: String(nginxWorkerProcesses(settings.resources.limits.cpu)) },
        image: { ...splitImage(settings.image), pullPolicy: "IfNotPresent" },
        replicaCount: settings.replicas,
        // The chart refuses to render a PodDisruptionBudget for a single replica.
        podDisruptionBudget: settings.replicas > 1 ? { enabled: true, maxUnavailable: 1 } : { enabled: false },
        resources: settings.resources,
        affinity: spreadPods(settings.placement, KONG_POD_SELECTOR),
        securityContext: podSecurityContext(KONG_UID),
        containerSecurityContext: { ...containerSecurityContext(), runAsUser: KONG_UID },
        proxy: { type: settings.proxyServiceType, ...nodePorts(settings.proxyServiceType, settings.proxyHttpNodePort, settings.proxyTlsNodePort) },
        dblessConfig: { secret: inputs.configSecretName },
        podAnnotations: { [CONFIG_CHECKSUM_ANNOTATION]: inputs.configChecksum },
    }, deepMerge(client, inputs.proxyCertificate === undefined ? {} : proxyCertificateOverrides(inputs.proxyCertificate)));
}

/** The chart values for one stack: base file, then the stack's overrides. */
export function kongChartValues(settings: KongSettings, inputs: ValuesInputs, base: Values = loadBaseValues()): Values {
    return deepMerge(base, stackOverrides(settings, inputs));
}
