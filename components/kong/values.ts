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
}

/** What the stack's settings change in the base values. */
export function stackOverrides(settings: KongSettings, inputs: ValuesInputs): Values {
    const nodePorts = (type: string, http: number, tls: number) => (type === "ClusterIP" ? {} : { http: { nodePort: http }, tls: { nodePort: tls } });
    return {
        image: { ...splitImage(settings.image), pullPolicy: "IfNotPresent" },
        replicaCount: settings.replicas,
        // The chart refuses to render a PodDisruptionBudget for a single replica.
        podDisruptionBudget: settings.replicas > 1 ? { enabled: true, maxUnavailable: 1 } : { enabled: false },
        resources: settings.resources,
        affinity: spreadPods(settings.placement, KONG_POD_SELECTOR),
        securityContext: podSecurityContext(KONG_UID),
        containerSecurityContext: { ...containerSecurityContext(), runAsUser: KONG_UID },
        proxy: { type: settings.proxyServiceType, ...nodePorts(settings.proxyServiceType, settings.proxyHttpNodePort, settings.proxyTlsNodePort) },
        admin: { type: settings.adminServiceType, ...nodePorts(settings.adminServiceType, settings.adminHttpNodePort, settings.adminTlsNodePort) },
        dblessConfig: { secret: inputs.configSecretName },
        podAnnotations: { [CONFIG_CHECKSUM_ANNOTATION]: inputs.configChecksum },
    };
}

/** The chart values for one stack: base file, then the stack's overrides. */
export function kongChartValues(settings: KongSettings, inputs: ValuesInputs, base: Values = loadBaseValues()): Values {
    return deepMerge(base, stackOverrides(settings, inputs));
}
