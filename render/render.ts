/**
 * Offline render: runs the real Pulumi program (index.ts) against Pulumi's mock engine and records every
 * resource it registers, with the inputs a real `pulumi up` would send to the providers.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { PROJECT } from "../settings";

/** Exported by @pulumi/pulumi's runtime module but missing from its type declarations. */
const runtime = pulumi.runtime as typeof pulumi.runtime & { waitForRPCs(): Promise<void> };

/** Stands in for every secret (generated password, `secure:` config value) so none can reach a file. */
export const SECRET_PLACEHOLDER = "renderplaceholdersecret000000000000";
export const REDACTED = "<redacted>";

export interface RenderedResource {
    /** Pulumi type token, e.g. `kubernetes:apps/v1:StatefulSet`. */
    type: string;
    /** Pulumi logical name. */
    name: string;
    /** Inputs as the provider would receive them. */
    inputs: Record<string, any>;
}

export interface StackConfig {
    /** Every config value keyed `namespace:key`, structured values as JSON text (as Pulumi passes them). */
    values: Record<string, string>;
    /** Keys whose values were secrets in the stack file. */
    secretKeys: string[];
}

/** Reads `Pulumi.<stack>.yaml`-format config; `secure:` values become the placeholder, marked secret. */
export function readStackConfigFile(file: string): StackConfig {
    const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) {
            values[key] = SECRET_PLACEHOLDER;
            secretKeys.push(key);
        } else if (value && typeof value === "object") {
            values[key] = JSON.stringify(replaceSecure(value, () => secretKeys.includes(key) || secretKeys.push(key)));
        } else {
            values[key] = String(value);
        }
    }
    return { values, secretKeys };
}

/** Nested `secure:` values (set with `--path`) mark the whole key secret. */
function replaceSecure(value: unknown, markSecret: () => void): unknown {
    if (Array.isArray(value)) {
        return value.map((v) => replaceSecure(v, markSecret));
    }
    if (value && typeof value === "object") {
        if (Object.keys(value).length === 1 && "secure" in value) {
            markSecret();
            return SECRET_PLACEHOLDER;
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSecure(v, markSecret)]));
    }
    return value;
}

/**
 * The mock engine hands inputs over as the wire format: a property holding a secret anywhere inside (a
 * Secret's `stringData`) arrives wrapped as `{<sig>: <secret sig>, value}`. Records keep the plain shape the
 * API server would receive; secret values are redacted later by `collectOutputs`.
 */
export function unwrapSecrets(value: any): any {
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (value && typeof value === "object") {
        if (value[specialSigKey] === specialSecretSig) {
            return unwrapSecrets(value.value);
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** A PEM block that says it is the render's stand-in (no certificate exists before deployment), stable per name. */
function mockPem(label: string, name: string): string {
    return `-----BEGIN ${label}-----\nrender-placeholder-${name}\n-----END ${label}-----\n`;
}

/** The outputs the tls provider computes for a key, a request or a certificate, as render stand-ins. */
export function mockTlsOutputs(type: string, name: string): Record<string, unknown> {
    switch (type) {
        case "tls:index/privateKey:PrivateKey":
            return { privateKeyPem: SECRET_PLACEHOLDER, publicKeyPem: mockPem("PUBLIC KEY", name) };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: mockPem("CERTIFICATE REQUEST", name) };
        default:
            return { certPem: mockPem("CERTIFICATE", name), readyForRenewal: false };
    }
}

/** What the mock engine answers for a resource: its inputs, plus the outputs a provider would compute. */
function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    if (type === "random:index/randomId:RandomId") {
        // Not a secret (Kafka's cluster ID): a value in the provider's format, stable per resource name, so a render
        // applied to a cluster formats every log dir for one ID.
        const bytes = createHash("sha256").update(name).digest().subarray(0, Number(inputs.byteLength));
        return { ...inputs, b64Url: bytes.toString("base64url"), hex: bytes.toString("hex") };
    }
    if (type.startsWith("random:")) {
        return { ...inputs, result: SECRET_PLACEHOLDER };
    }
    if (type.startsWith("tls:")) {
        return { ...inputs, ...mockTlsOutputs(type, name) };
    }
    if (type.startsWith("kubernetes:") && inputs.metadata && inputs.metadata.name === undefined) {
        return { ...inputs, metadata: { ...inputs.metadata, name } };
    }
    return inputs;
}

/**
 * Sets up the mock engine and stack config, then runs the program through `loadProgram`
 * (an `import` of index.ts). Call once per module registry: Pulumi's engine state is per process.
 */
export async function renderProgram(stack: string, config: StackConfig, loadProgram: () => Promise<unknown>): Promise<RenderedResource[]> {
    const resources: RenderedResource[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                resources.push({ type: args.type, name: args.name, inputs: unwrapSecrets(args.inputs) });
                return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
            },
            call(args) {
                return args.inputs;
            },
        },
        PROJECT,
        stack,
        false,
    );
    pulumi.runtime.setAllConfig(config.values, config.secretKeys);
    await loadProgram();
    // Resources register asynchronously (inputs are Outputs): wait until every registration has reached the mocks.
    await runtime.waitForRPCs();
    return resources;
}
