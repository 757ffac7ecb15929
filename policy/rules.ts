/**
 * The rules of the `bss` policy pack. `policy/index.ts` constructs the pack from `bssPolicies()`; this module
 * never does, because a second `PolicyPack` in one process exits it: tests import this module and call each
 * policy with hand-made arguments. Every rule is a pure function over plain resource properties, wrapped into
 * a CrossGuard policy at the end of the file.
 */
import { Policies, ResourceValidationPolicy, StackValidationPolicy, UnknownValueError } from "@pulumi/policy";
import { Settings } from "../settings";
import { kafkaNodePorts } from "../settings/kafka";
import { redisNodePorts } from "../settings/redis";
import { kongNodePorts } from "../settings/kong";
import { akhqNodePorts } from "../settings/akhq";
import { allContainers, restrictedViolations } from "./pod-security";

type Obj = Record<string, any>;

/** What the rules need to know about the stack, derived once from its settings. */
export interface PolicyContext {
    /** Every node port the settings ask to open, with the Service type that asks for it; no default. */
    exposedPorts: ExposedPort[];
    /** Values of the stack's secret config keys (`bss:redisPassword`, ...); default: none set. */
    configSecrets: string[];
}

export interface ExposedPort {
    /** The fixed nodePort. */
    port: number;
    /** The Service type the settings ask for on it. */
    type: "NodePort" | "LoadBalancer";
    /** The config key that claims it, for messages. */
    key: string;
}

/**
 * A value read through CrossGuard's proxy, or undefined while it is unknown (a preview, before the value
 * exists). Where a rule can judge the rest without it, it reads through this; the update runs the rules again
 * with every value known.
 */
export function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (err) {
        if (err instanceof UnknownValueError) {
            return undefined;
        }
        throw err;
    }
}

/** Shorter values match by chance (`admin`, `true`); every secret the settings accept is longer. */
const MIN_SECRET_LENGTH = 8;

/**
 * Names that say "this is a credential", for config keys, ConfigMap keys, assignments inside ConfigMap files
 * and stack outputs alike: `password`, `requirepass`, `REDISCLI_AUTH`, `kongApiKeys`, `operatorCredentials`,
 * `jwtSecret`, `accessToken`, `privateKey`.
 */
export const CREDENTIAL_NAME = /(pass(word|wd|phrase)?|secret|token|api[-_]?keys?|credentials?|private[-_]?key|auth)$/i;

/** The stack's context for the rules: node ports from the same claims the settings validate, secret values. */
export function policyContext(settings: Settings): PolicyContext {
    const kong = settings.kong;
    const proxyPorts = kong.proxyServiceType === "ClusterIP" ? [] : [kong.proxyHttpNodePort, kong.proxyTlsNodePort];
    const claims = [...kafkaNodePorts(settings.kafka), ...redisNodePorts(settings.redis), ...kongNodePorts(kong), ...akhqNodePorts(settings.akhq)];
    const { redisPassword, akhqPassword, kongApiKeys } = settings.secrets;
    return {
        exposedPorts: claims.map((claim) => ({
            ...claim,
            type: kong.proxyServiceType === "LoadBalancer" && proxyPorts.includes(claim.port) ? "LoadBalancer" : "NodePort",
        })),
        configSecrets: [redisPassword, akhqPassword, ...Object.values(kongApiKeys).flat()].flatMap((secret) => (secret ? [secret.reveal()] : [])),
    };
}

// ---------------------------------------------------------------- pod templates

/** Pulumi type token → where the resource keeps its pod template. */
const POD_TEMPLATES: Record<string, (props: Obj) => Obj | undefined> = {
    "kubernetes:core/v1:Pod": (p) => ({ metadata: p.metadata, spec: p.spec }),
    "kubernetes:core/v1:PodTemplate": (p) => p.template,
    "kubernetes:core/v1:ReplicationController": (p) => p.spec?.template,
    "kubernetes:apps/v1:Deployment": (p) => p.spec?.template,
    "kubernetes:apps/v1:StatefulSet": (p) => p.spec?.template,
    "kubernetes:apps/v1:DaemonSet": (p) => p.spec?.template,
    "kubernetes:apps/v1:ReplicaSet": (p) => p.spec?.template,
    "kubernetes:batch/v1:Job": (p) => p.spec?.template,
    "kubernetes:batch/v1:CronJob": (p) => p.spec?.jobTemplate?.spec?.template,
};

export const POD_TEMPLATE_TYPES = Object.keys(POD_TEMPLATES);

/** The pod template (`{metadata, spec}`) of a resource, or undefined when it runs no pods. */
export function podTemplateOf(type: string, props: Obj): Obj | undefined {
    return POD_TEMPLATES[type]?.(props);
}

/** Helm chart resources: their own inputs, not the objects the provider renders from them. */
const CHART_TYPES = new Set(["kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release"]);
const CRD_TYPES = new Set(["kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "kubernetes:apiextensions.k8s.io/v1beta1:CustomResourceDefinition"]);

// ---------------------------------------------------------------- pinned images

/** A tag naming one patch release (`3.9.2`, `v1.9.0`, `7.2.16-alpine`); `3.9`, `7` and `latest` move. */
const PATCH_TAG = /^v?\d+\.\d+\.\d+([-+_.][A-Za-z0-9._-]+)?$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Why an image reference is not pinned, or undefined when it is (a patch tag or a sha256 digest). */
export function imagePinProblem(image: unknown): string | undefined {
    if (typeof image !== "string" || image === "") {
        return "has no image";
    }
    const at = image.indexOf("@");
    if (at >= 0) {
        return DIGEST.test(image.slice(at + 1)) ? undefined : `image "${image}" has a malformed digest (want @sha256:<64 hex>)`;
    }
    const colon = image.lastIndexOf(":");
    if (colon <= image.lastIndexOf("/")) {
        return `image "${image}" has no tag, so the node pulls whatever "latest" is`;
    }
    const tag = image.slice(colon + 1);
    return PATCH_TAG.test(tag) ? undefined : `image "${image}": tag "${tag}" does not name one patch release (want e.g. 3.9.2, v1.9.0, or a @sha256 digest)`;
}

function containerLabel(field: string, container: Obj): string {
    return `${field === "initContainers" ? "init container" : field === "ephemeralContainers" ? "ephemeral container" : "container"} "${container.name}"`;
}

/** Unpinned images of a resource: its containers', or a Helm chart's `values.image`. */
export function unpinnedImages(type: string, props: Obj): string[] {
    if (CHART_TYPES.has(type)) {
        const image = props.values?.image;
        if (!image) {
            return [];
        }
        // The chart's split form: a digest may sit in the tag, as Helm charts allow.
        const tag = String(image.tag ?? "");
        const problem = DIGEST.test(tag) ? undefined : imagePinProblem(`${image.repository}:${tag}`);
        return problem ? [`chart values: ${problem}`] : [];
    }
    const spec = podTemplateOf(type, props)?.spec;
    if (!spec) {
        return [];
    }
    return allContainers(spec).flatMap(({ field, container }) => {
        const problem = imagePinProblem(container.image);
        return problem ? [`${containerLabel(field, container)}: ${problem}`] : [];
    });
}

// ---------------------------------------------------------------- pod security and resources

/** "restricted" violations of a resource's pod template (policy/pod-security.ts). */
export function podSecurityProblems(type: string, props: Obj): string[] {
    const template = podTemplateOf(type, props);
    return template?.spec ? restrictedViolations(template.spec, template.metadata?.annotations ?? {}) : [];
}

/**
 * Containers without CPU and memory requests or a memory limit. The scheduler places pods by requests, and a
 * container without a memory limit can take the node's memory from its neighbours. Ephemeral containers
 * cannot have resources, so they are not asked to.
 */
export function missingResources(type: string, props: Obj): string[] {
    const spec = podTemplateOf(type, props)?.spec;
    if (!spec) {
        return [];
    }
    return allContainers(spec).filter(({ field }) => field !== "ephemeralContainers").flatMap(({ field, container }) => {
        const missing = [
            ["requests.cpu", container.resources?.requests?.cpu],
            ["requests.memory", container.resources?.requests?.memory],
            ["limits.memory", container.resources?.limits?.memory],
        ].filter(([, value]) => value === undefined || value === null || value === "").map(([name]) => name);
        return missing.length > 0 ? [`${containerLabel(field, container)} has no resources.${missing.join(", resources.")}`] : [];
    });
}

// ---------------------------------------------------------------- secrets in ConfigMaps and outputs

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const COMMENT_LINE = /^\s*(#|\/\/|;|!|--)/;
/** `name: value`, `name=value`, `name value` (redis.conf), optionally after `export ` or a YAML list dash. */
const ASSIGNMENT = /^\s*(?:export\s+|-\s+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?:[:=]\s*|\s+)(.*)$/;
/** `password="..."` anywhere in a line, e.g. inside a JAAS config. */
const INLINE_ASSIGNMENT = /\b([A-Za-z0-9_.-]*(?:password|passwd|secret|token))\s*=\s*"([^"]*)"/gi;

/**
 * True when a value in a config file says where the secret comes from rather than what it is: empty, a
 * shell or placeholder reference (`$VAR`, `${VAR}`, `"$(cmd)"`), a printf format, a file path, or the start
 * of a nested YAML block or flow structure.
 */
export function isReference(value: string): boolean {
    const v = value.trim().replace(/^["']/, "").replace(/["',;]*$/, "").trim();
    return v === "" || v === "null" || v === "~" || /^[$%/|>{[]/.test(v) || v.includes("${");
}

/** Text of each ConfigMap entry: `data` as is, `binaryData` decoded. */
function configMapEntries(props: Obj): [string, string][] {
    return [
        ...Object.entries(props.data ?? {}).map(([k, v]) => [`data "${k}"`, String(v)] as [string, string]),
        ...Object.entries(props.binaryData ?? {}).map(([k, v]) => [`binaryData "${k}"`, Buffer.from(String(v), "base64").toString("utf8")] as [string, string]),
    ];
}

/**
 * Why a ConfigMap looks like it holds a secret. ConfigMaps are readable by anyone with `get configmaps` and
 * are printed by `kubectl describe`; secrets belong in a Secret. Three signs, none of which prints the value:
 * a key named like a credential, a PEM private key, a credential-named setting assigned a literal in a config
 * file or script (references such as `$REDIS_PASSWORD` are fine), and any known secret value (`secrets`: the
 * stack's secret config here; generated passwords join in `secretLeaks`).
 */
export function configMapSecretProblems(props: Obj, secrets: readonly string[]): string[] {
    const problems: string[] = [];
    const known = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
    for (const key of [...Object.keys(props.data ?? {}), ...Object.keys(props.binaryData ?? {})]) {
        if (CREDENTIAL_NAME.test(key.replace(/\.[A-Za-z0-9]+$/, ""))) {
            problems.push(`key "${key}" is named like a credential: keep it in a Secret`);
        }
    }
    for (const [entry, text] of configMapEntries(props)) {
        if (PEM_PRIVATE_KEY.test(text)) {
            problems.push(`${entry} holds a PEM private key`);
        }
        if (known.some((secret) => text.includes(secret))) {
            problems.push(`${entry} holds the value of a secret (a secret config key or a generated password)`);
        }
        text.split("\n").forEach((line, index) => {
            if (COMMENT_LINE.test(line)) {
                return;
            }
            const assigned: [string, string][] = [];
            const m = ASSIGNMENT.exec(line);
            if (m && CREDENTIAL_NAME.test(m[1])) {
                assigned.push([m[1], m[2]]);
            }
            for (const inline of line.matchAll(INLINE_ASSIGNMENT)) {
                assigned.push([inline[1], inline[2]]);
            }
            for (const [name, value] of assigned) {
                if (!isReference(value)) {
                    problems.push(`${entry} line ${index + 1} sets "${name}" to a literal value: put it in a Secret and reference it ($VAR, \${VAR} or a mounted file)`);
                }
            }
        });
    }
    return problems;
}

/** A resource as the stack policy sees it. */
export interface StackResource {
    type: string;
    name: string;
    /** Outputs (what the provider reported); for the root `pulumi:pulumi:Stack`, the stack outputs. */
    props: Obj;
}

export const STACK_TYPE = "pulumi:pulumi:Stack";
const RANDOM_PASSWORD_TYPE = "random:index/randomPassword:RandomPassword";

/** Every secret value the deployed stack knows: secret config, generated passwords, credential keys of Secrets. */
export function knownSecretValues(resources: readonly StackResource[], configSecrets: readonly string[]): string[] {
    const values = new Set(configSecrets);
    const add = (value: unknown) => {
        if (typeof value === "string") {
            values.add(value);
        }
    };
    for (const r of resources) {
        if (r.type === RANDOM_PASSWORD_TYPE) {
            add(known(() => r.props.result));
        }
        if (r.type === "kubernetes:core/v1:Secret") {
            for (const field of ["stringData", "data"]) {
                const entries = known(() => r.props[field]) ?? {};
                for (const key of Object.keys(entries).filter((k) => CREDENTIAL_NAME.test(k))) {
                    const value = known(() => entries[key]);
                    add(field === "data" && typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : value);
                }
            }
        }
    }
    return [...values].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/**
 * Secret values that reached a ConfigMap or a plain stack output. Once deployed, the policy pack sees every
 * value unwrapped (CrossGuard hands policies plain values), so which outputs are secret is a naming contract:
 * an output named like a credential (`redisPassword`, `kongApiKeys`, `kongOperatorCredentials`) is exported
 * with `pulumi.secret`, which the render tests prove; every other output must hold no secret value.
 */
export function secretLeaks<T extends StackResource>(resources: readonly T[], configSecrets: readonly string[]): { resource: T; problem: string }[] {
    const secrets = knownSecretValues(resources, configSecrets);
    const leaks: { resource: T; problem: string }[] = [];
    for (const r of resources) {
        if (r.type === "kubernetes:core/v1:ConfigMap") {
            for (const [entry, text] of known(() => configMapEntries(r.props)) ?? []) {
                if (secrets.some((secret) => text.includes(secret))) {
                    leaks.push({ resource: r, problem: `ConfigMap ${entry} holds a secret value (a secret config key, a generated password or a Secret's credential)` });
                }
            }
        }
        if (r.type === STACK_TYPE) {
            for (const output of Object.keys(r.props).filter((name) => !CREDENTIAL_NAME.test(name))) {
                const value = known(() => r.props[output]);
                const text = known(() => (typeof value === "string" ? value : JSON.stringify(value)));
                if (text !== undefined && secrets.some((secret) => text.includes(secret))) {
                    leaks.push({ resource: r, problem: `stack output "${output}" holds a secret value in plain text: export it with pulumi.secret under a credential name (…Password, …ApiKeys, …Credentials, …Token, …Secret)` });
                }
            }
        }
    }
    return leaks;
}

// ---------------------------------------------------------------- exposure

/**
 * Why a Service is reachable from outside the cluster without a setting asking for it. A NodePort or
 * LoadBalancer Service is allowed only on node ports the settings claim (`bss:kafka.nodePortBase`,
 * `bss:redis.nodePort` with `hostAccess`, `bss:kong.proxy*NodePort`, `bss:kong.admin*NodePort`,
 * `bss:akhq.nodePort`), with the type the settings ask for; a random node port or `externalIPs` never is.
 */
export function exposureProblems(props: Obj, exposed: readonly ExposedPort[]): string[] {
    const problems: string[] = [];
    const externalIPs: string[] = props.spec?.externalIPs ?? [];
    if (externalIPs.length > 0) {
        problems.push(`externalIPs ${externalIPs.join(", ")} expose it on those addresses: no setting asks for that`);
    }
    const type = props.spec?.type ?? "ClusterIP";
    if (type !== "NodePort" && type !== "LoadBalancer") {
        return problems;
    }
    const claimed = exposed.map((e) => `${e.port} (${e.key}, ${e.type})`).join(", ") || "none";
    for (const port of props.spec?.ports ?? []) {
        if (port.nodePort === undefined || port.nodePort === null) {
            problems.push(`${type} port ${port.port} has no fixed nodePort: the cluster would open a random node port that no setting claims`);
            continue;
        }
        const claim = exposed.find((e) => e.port === port.nodePort);
        if (!claim) {
            problems.push(`${type} on nodePort ${port.nodePort}, which no setting asks for (the settings expose: ${claimed})`);
        } else if (claim.type !== type) {
            problems.push(`is a ${type}, but ${claim.key} asks for a ${claim.type} on nodePort ${port.nodePort}`);
        }
    }
    return problems;
}

// ---------------------------------------------------------------- Helm charts

/**
 * Why a resource would install CRDs. `helm.v4.Chart` installs a chart's `crds/` folder unless `skipCrds: true`;
 * the CRDs are cluster-scoped, a cluster's other releases (e.g. a Kong ingress controller) may own them, and
 * `pulumi destroy` would delete them with every custom resource of theirs. Nothing in this stack uses one.
 */
export function crdProblems(type: string, props: Obj): string[] {
    if (CHART_TYPES.has(type) && props.skipCrds !== true) {
        return [`chart "${props.chart}" is installed without skipCrds: true, so its CRDs would become part of this stack`];
    }
    if (CRD_TYPES.has(type)) {
        return [`CustomResourceDefinition "${props.metadata?.name}" is cluster-scoped and shared: this stack must not own one`];
    }
    return [];
}

// ---------------------------------------------------------------- the policies

function resourcePolicy(name: string, description: string, check: (type: string, props: Obj) => string[]): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        validateResource: (args, reportViolation) => {
            for (const problem of check(args.type, args.props)) {
                reportViolation(problem);
            }
        },
    };
}

/** The pack's policies for one stack. */
export function bssPolicies(context: PolicyContext): Policies {
    const secretsStaySecret: StackValidationPolicy = {
        name: "secrets-stay-secret",
        description: "No secret value (secret config, generated password, a Secret's credential) in a ConfigMap or a plain stack output.",
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation) => {
            for (const leak of secretLeaks(args.resources, context.configSecrets)) {
                reportViolation(leak.problem, leak.resource.urn);
            }
        },
    };
    return [
        resourcePolicy("pinned-images", "Every container image (init containers and chart values too) names a patch release or a digest.", unpinnedImages),
        resourcePolicy("restricted-pod-security", "Every pod template meets the Pod Security Standard \"restricted\".", podSecurityProblems),
        resourcePolicy("container-resources", "Every container and init container requests CPU and memory and has a memory limit.", missingResources),
        resourcePolicy("configmap-holds-no-secret", "No ConfigMap holds a credential: no credential-named key, private key, literal password or secret config value.",
            (type, props) => (type === "kubernetes:core/v1:ConfigMap" ? configMapSecretProblems(props, context.configSecrets) : [])),
        secretsStaySecret,
        resourcePolicy("services-exposed-only-as-configured", "A NodePort or LoadBalancer Service only where the stack settings ask for one.",
            (type, props) => (type === "kubernetes:core/v1:Service" ? exposureProblems(props, context.exposedPorts) : [])),
        resourcePolicy("helm-charts-skip-crds", "Helm charts are installed with skipCrds: true and the stack owns no CustomResourceDefinition.", crdProblems),
    ];
}
