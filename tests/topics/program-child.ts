/**
 * Child process of `runProgram` (program.ts): runs index.ts under Pulumi's mocks the way the Pulumi runtime
 * runs it (a rejection nobody handles ends the program) and prints what reached the engine as JSON.
 * argv: stack, StackConfig JSON, last deployment's outputs JSON ("null" for a first deploy), file to write the record to.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../settings";
import type { ProgramRun } from "./program";

type Transform = (args: pulumi.ResourceTransformArgs) => unknown;

const [stack, configText, deployedText, recordFile] = process.argv.slice(2);
const config = JSON.parse(configText) as { values: Record<string, string>; secretKeys: string[] };
const deployedOutputs = JSON.parse(deployedText) as Record<string, unknown> | null;
const run: ProgramRun = { acted: [], registrations: [], failures: [], exports: {} };
const transforms: Transform[] = [];

process.on("unhandledRejection", (reason) => {
    run.failures.push(reason instanceof Error ? reason.message : String(reason));
});
process.on("exit", () => {
    fs.writeFileSync(recordFile, JSON.stringify(run));
});

async function main(): Promise<void> {
    await pulumi.runtime.setMocks({
        async newResource(args) {
            // The engine runs stack-wide transforms before it acts on a registration.
            for (const transform of transforms) {
                try {
                    await transform({ type: args.type, name: args.name, custom: args.custom ?? true, props: args.inputs, opts: {} });
                } catch (err) {
                    run.failures.push((err as Error).message);
                    throw err;
                }
            }
            run.acted.push({ type: args.type, name: args.name, inputs: args.inputs });
            const state = args.type === "pulumi:pulumi:StackReference"
                ? { ...args.inputs, outputs: deployedOutputs ?? {}, secretOutputNames: [] }
                : args.inputs;
            return { id: `${args.name}-id`, state };
        },
        call(args) {
            return args.inputs;
        },
        registerTransform(transform: Transform) {
            transforms.push(transform);
        },
    } as pulumi.runtime.Mocks, PROJECT, stack, false, "organization");

    // What the engine receives: the RegisterResource requests with the options it acts on.
    const monitor = (pulumi.runtime as unknown as { getMonitor(): any }).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) => register(req, (err: unknown, res: any) => {
        if (!err) {
            run.registrations.push({
                type: req.getType(),
                name: req.getName(),
                inputs: req.getObject()?.toJavaScript() ?? {},
                protect: req.getProtect(),
                dependencies: req.getDependenciesList(),
                provider: req.getProvider(),
                urn: res.getUrn(),
            });
        }
        callback(err, res);
    });

    pulumi.runtime.setAllConfig(config.values, config.secretKeys);
    const program: Record<string, unknown> = await import("../../index");
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    for (const [name, value] of Object.entries(program)) {
        run.exports[name] = await new Promise((resolve) => (pulumi.output(value) as pulumi.Output<unknown>).apply(resolve));
    }
}

main().catch((err) => {
    run.failures.push(err instanceof Error ? err.message : String(err));
});
