/**
 * The policy pack over every stack the repository ships (dev, prod and the large fixture), rendered by the real
 * program under the mock engine: no violation; every pod template, the Kong chart's included, meets
 * "restricted" in a namespace that enforces it; credential-named outputs are secret and no other output holds
 * a secret.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadSettings } from "../../settings";
import { readStackConfigFile, SECRET_PLACEHOLDER, StackConfig } from "../../render/render";
import { renderIsolated, RenderedStack, ROOT, stackFile } from "../helpers/render";
import { bssPolicies, CREDENTIAL_NAME, podTemplateOf, STACK_TYPE, StackResource, policyContext } from "../../policy/rules";
import { restrictedViolations } from "../../policy/pod-security";
import { kongChartPodTemplate } from "./kong-chart-pod";
import { runPolicies } from "./policy-args";

const STACKS: [string, () => StackConfig][] = [
    ["dev", () => stackFile("dev")],
    ["prod", () => stackFile("prod")],
    ["large", () => readStackConfigFile(path.join(ROOT, "tests", "fixtures", "Pulumi.large.yaml"))],
];

const CHART_TYPE = "kubernetes:helm.sh/v4:Chart";
const KONG_CHART_POD = "kong (chart deployment)";

interface Export {
    value: unknown;
    secret: boolean;
}

async function resolveExports(exports: Record<string, unknown>): Promise<Record<string, Export>> {
    const resolved: Record<string, Export> = {};
    for (const [name, value] of Object.entries(exports)) {
        if (pulumi.Output.isInstance(value)) {
            const output = value as pulumi.Output<unknown>;
            resolved[name] = { value: await new Promise((resolve) => output.apply(resolve)), secret: await pulumi.isSecret(output) };
        } else {
            resolved[name] = { value, secret: false };
        }
    }
    return resolved;
}

/**
 * What the engine would hand the pack: each registered resource (random passwords with the result the mock
 * engine gives them), the Deployment the Kong chart renders from its values, and the stack's outputs.
 */
function policyResources(stack: string, rendered: RenderedStack, exports: Record<string, Export>): StackResource[] {
    const resources: StackResource[] = rendered.resources.map((r) => ({
        type: r.type,
        name: r.name,
        props: r.type.startsWith("random:") ? { ...r.inputs, result: SECRET_PLACEHOLDER } : r.inputs,
    }));
    for (const chart of rendered.resources.filter((r) => r.type === CHART_TYPE && r.inputs.chart === "kong")) {
        resources.push({ type: "kubernetes:apps/v1:Deployment", name: KONG_CHART_POD, props: { spec: { template: kongChartPodTemplate(chart.inputs.values) } } });
    }
    resources.push({ type: STACK_TYPE, name: `bss-${stack}`, props: Object.fromEntries(Object.entries(exports).map(([k, v]) => [k, v.value])) });
    return resources;
}

describe.each(STACKS)("stack %s", (stack, config) => {
    let rendered: RenderedStack;
    let exports: Record<string, Export>;
    let resources: StackResource[];

    beforeAll(async () => {
        rendered = await renderIsolated(stack, config());
        exports = await resolveExports(rendered.exports);
        resources = policyResources(stack, rendered, exports);
    }, 120_000);

    it("passes every rule of the policy pack", async () => {
        const cfg = config();
        const policies = bssPolicies(policyContext(loadSettings(cfg.values, stack, new Set(cfg.secretKeys))));
        expect(await runPolicies(policies, resources)).toEqual([]);
    });

    it("enforces restricted on its namespace", () => {
        const namespaces = rendered.manifests.filter((m) => m.kind === "Namespace");
        expect(namespaces).toHaveLength(1);
        expect(namespaces[0].metadata.labels).toMatchObject({
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        });
    });

    it("has only pod templates that meet restricted, the Kong chart's included", () => {
        const templates = resources.flatMap((r) => {
            const template = podTemplateOf(r.type, r.props);
            return template ? [{ name: `${r.type} ${r.name}`, problems: restrictedViolations(template.spec, template.metadata?.annotations ?? {}) }] : [];
        });
        expect(templates.map((t) => t.name)).toEqual(expect.arrayContaining([
            expect.stringMatching(/StatefulSet .*kafka/),
            expect.stringMatching(/StatefulSet .*redis/),
            expect.stringMatching(/Deployment .*akhq/),
            `kubernetes:apps/v1:Deployment ${KONG_CHART_POD}`,
        ]));
        expect(templates.filter((t) => t.problems.length > 0)).toEqual([]);
    });

    it("exports credential-named outputs as secrets, and no secret under any other name", () => {
        // null and undefined hold no credential (AKHQ's password while its login is off): nothing to keep secret.
        const credentialNamed = Object.entries(exports).filter(([name, e]) => CREDENTIAL_NAME.test(name) && e.value !== undefined && e.value !== null);
        expect(credentialNamed.map(([name]) => name)).toEqual(expect.arrayContaining(["redisPassword", "kongApiKeys", "kongOperatorCredentials"]));
        expect(credentialNamed.filter(([, e]) => !e.secret).map(([name]) => name)).toEqual([]);
        // The placeholder stands in for every generated password and secure config value: it must flow to
        // the secret outputs, or the check below would prove nothing.
        expect(credentialNamed.some(([, e]) => JSON.stringify(e.value).includes(SECRET_PLACEHOLDER))).toBe(true);
        const plainWithSecret = Object.entries(exports).filter(([name, e]) => !CREDENTIAL_NAME.test(name) && e.value !== undefined && JSON.stringify(e.value).includes(SECRET_PLACEHOLDER));
        expect(plainWithSecret.map(([name]) => name)).toEqual([]);
    });
});
