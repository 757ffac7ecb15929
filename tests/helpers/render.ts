/**
 * Renders a stack inside a test through the same mock-engine path as `npm run render`.
 * Pulumi's engine state is per module registry, so call it once per test file (in `beforeAll`).
 */
import * as path from "path";
import { readStackConfigFile, renderProgram, RenderedResource, StackConfig } from "../../render/render";
import { collectOutputs, RenderOutputs } from "../../render/outputs";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface RenderedStack extends RenderOutputs {
    resources: RenderedResource[];
}

/** A stack file of the repository (`Pulumi.<stack>.yaml`) or any file in that format. */
export function stackFile(stack: string): StackConfig {
    return readStackConfigFile(path.join(ROOT, `Pulumi.${stack}.yaml`));
}

/** Config given inline, as tests build it: structured values are JSON-encoded the way Pulumi passes them. */
export function inlineConfig(values: Record<string, unknown>, secretKeys: string[] = []): StackConfig {
    return {
        values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
        secretKeys,
    };
}

export async function renderStack(stack: string, config: StackConfig = stackFile(stack)): Promise<RenderedStack> {
    const resources = await renderProgram(stack, config, () => import("../../index"));
    return { resources, ...collectOutputs(resources) };
}

/** The rendered object of one kind and name. */
export function object(rendered: RenderOutputs, kind: string, name: string): Record<string, any> {
    const found = rendered.manifests.find((m) => m.kind === kind && m.metadata?.name === name);
    if (!found) {
        throw new Error(`no ${kind} "${name}" in the render (have: ${rendered.manifests.map((m) => `${m.kind}/${m.metadata?.name}`).join(", ")})`);
    }
    return found;
}

/**
 * Renders in a fresh module registry, so one test file can render several stacks one after another.
 * Pulumi keeps its engine state on the global object, which `setMocks` resets for each render.
 */
export async function renderIsolated(stack: string, config: StackConfig = stackFile(stack)): Promise<RenderedStack> {
    let rendered: RenderedStack | undefined;
    await jest.isolateModulesAsync(async () => {
        const fresh: typeof import("./render") = await import("./render");
        rendered = await fresh.renderStack(stack, config);
    });
    return rendered!;
}
