import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { KONG_CONSUMERS, KongConsumer, SecretValue } from "../../settings";
import { KongSettings } from "../../settings/kong";
import { labels } from "../shared/labels";
import { sha256Hex } from "../shared/checksum";
import { AkhqEndpoint, buildKongConfig, KongCredentials, OPERATOR_CONSUMER, renderKongConfig } from "./declarative";
import { validateKongConfig } from "./validate";
import { kongChartValues } from "./values";

/** A `kubernetes.io/tls` Secret for the proxy, and what changes when its pods must load a new certificate. */
export interface ProxyCertificate {
    secretName: pulumi.Input<string>;
    rollChecksum: pulumi.Input<string>;
}
import { kongChartArgs } from "./chart";

/** Secret the chart reads `kong.yml` from (`dblessConfig.secret`). */
export const KONG_CONFIG_SECRET = "kong-declarative-config";

export interface KongGatewayArgs {
    /** The stack's Kong settings (`settings.kong`); no default. */
    settings: KongSettings;
    /** Namespace of the release and its config Secret; no default. */
    namespace: pulumi.Input<string>;
    /** The AKHQ Service and the context path it serves under; no default. */
    akhq: AkhqEndpoint;
    /**
     * Key-auth keys from `bss:kongApiKeys` (secret config), each consumer's one key or two during a rotation;
     * default: a generated key per consumer.
     */
    apiKeyOverrides?: Partial<Record<KongConsumer, SecretValue[]>>;
    /** The certificate the proxy's TLS listener serves; default: Kong's built-in self-signed one. */
    proxyCertificate?: ProxyCertificate;
}

/** Stands in for credentials when the config is validated before any resource exists. */
const PLACEHOLDER_CREDENTIAL = "validationplaceholdercredential0000";

/**
 * Throws, listing every problem, when Kong 3.9 would refuse the config these args generate. Credentials are
 * placeholders: their shape is checked by the settings, and their values exist only after deployment starts.
 */
export function assertKongAccepts(args: KongGatewayArgs): void {
    const placeholders: KongCredentials = {
        apiKeys: Object.fromEntries(KONG_CONSUMERS.map((c) => [c, (args.apiKeyOverrides?.[c] ?? [undefined]).map((_, i) => `${PLACEHOLDER_CREDENTIAL}${c}${i}`)])) as Record<KongConsumer, string[]>,
        operatorPassword: PLACEHOLDER_CREDENTIAL,
    };
    const problems = validateKongConfig(buildKongConfig(args.settings, args.akhq, placeholders));
    if (problems.length > 0) {
        throw new Error(`The generated Kong declarative config would be refused by Kong 3.9:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}

/**
 * Kong in DB-less mode from the official chart: the declarative config generated from the settings goes
 * into a Secret (it holds consumer keys and the operator password), the chart mounts it.
 */
export class KongGateway extends pulumi.ComponentResource {
    /** Key-auth key of each consumer (secret): the last of its keys during a rotation. */
    readonly apiKeys: pulumi.Output<Record<KongConsumer, string>>;
    /** Basic-auth login of the tool UIs (secret). */
    readonly operatorCredentials: pulumi.Output<{ username: string; password: string }>;

    constructor(name: string, args: KongGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        assertKongAccepts(args);
        super("bss:kong:KongGateway", name, {}, opts);

        const keys = KONG_CONSUMERS.map((consumer) => {
            const override = args.apiKeyOverrides?.[consumer];
            return override
                ? pulumi.secret(override.map((key) => key.reveal()))
                : new random.RandomPassword(`${name}-key-${consumer}`, { length: 40, special: false }, { parent: this }).result.apply((key) => [key]);
        });
        const operatorPassword = new random.RandomPassword(`${name}-operator-password`, { length: 32, special: false }, { parent: this }).result;

        const configText = pulumi.secret(pulumi.all([pulumi.all(keys), operatorPassword]).apply(([keyValues, password]) =>
            renderKongConfig(buildKongConfig(args.settings, args.akhq, {
                apiKeys: Object.fromEntries(KONG_CONSUMERS.map((c, i) => [c, keyValues[i]])) as Record<KongConsumer, string[]>,
                operatorPassword: password,
            }))));

        const secret = new k8s.core.v1.Secret(`${name}-config`, {
            metadata: { name: KONG_CONFIG_SECRET, namespace: args.namespace, labels: labels("kong") },
            type: "Opaque",
            stringData: { "kong.yml": configText },
        }, { parent: this });

        // A digest reveals nothing of the keys; unsecret, the chart values stay readable in every diff.
        const checksum = pulumi.unsecret(configText.apply(sha256Hex));
        const certificate = args.proxyCertificate;
        const values = pulumi.all([checksum, certificate?.secretName, certificate?.rollChecksum]).apply(([digest, certSecret, certChecksum]) =>
            kongChartValues(args.settings, {
                configSecretName: KONG_CONFIG_SECRET,
                configChecksum: digest,
                proxyCertificate: certSecret === undefined ? undefined : { secretName: certSecret, checksum: certChecksum! },
            }));

        new k8s.helm.v4.Chart(name, kongChartArgs({
            source: args.settings.chart,
            version: args.settings.chartVersion,
            namespace: args.namespace,
            values,
        }), { parent: this, dependsOn: [secret] });

        this.apiKeys = pulumi.secret(pulumi.all(keys).apply((values) =>
            Object.fromEntries(KONG_CONSUMERS.map((c, i) => [c, values[i][values[i].length - 1]])) as Record<KongConsumer, string>));
        this.operatorCredentials = pulumi.secret(operatorPassword.apply((password) => ({ username: OPERATOR_CONSUMER, password })));
        this.registerOutputs({ apiKeys: this.apiKeys, operatorCredentials: this.operatorCredentials });
    }
}
