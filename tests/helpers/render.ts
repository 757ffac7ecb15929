/**
 * Renders a stack inside a test through the same mock-engine path as `npm run render`.
 * Pulumi's engine state is per module registry, so call it once per test file (in `beforeAll`).
 */
import * as path from "path";
import { readStackConfigFile, renderProgram, RenderedResource, StackConfig } from "../../render/render";
import { collectOutputs, RenderOutputs } from "../../render/outputs";
import type { Output } from "@pulumi/pulumi";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface RenderedStack extends RenderOutputs {
    resources: RenderedResource[];
    /** The program's stack outputs (index.ts exports), as Pulumi Outputs or plain values. */
    exports: Record<string, any>;
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
    let exports: Record<string, any> = {};
    const resources = await renderProgram(stack, config, async () => {
        exports = await import("../../index");
    });
    return { resources, exports, ...collectOutputs(resources) };
}

/** The value of a stack output (or any Output) once the mock engine has resolved it. */
export function outputValue<T>(output: Output<T>): Promise<T> {
    return new Promise<T>((resolve) => output.apply(resolve));
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
