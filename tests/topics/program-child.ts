/**
 * Child process of `runProgram` (program.ts): runs index.ts under Pulumi's mocks the way the Pulumi runtime
 * runs it (inside the root stack, `runInPulumiStack`, with process-wide rejection handlers like
 * `@pulumi/pulumi/cmd/run/run.js`) and writes what reached the engine and what the runtime would report as JSON.
 * argv: stack, StackConfig JSON, last deployment's outputs JSON ("null" for a first deploy), file to write the record to.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../settings";
import { mockTlsOutputs } from "../../render/render";
import type { ProgramRun, ReportedError } from "./program";

// The runtime's own formatter for an error it reports (what `pulumi up` prints, and what took 68 s before).
const { defaultErrorMessage } = require("@pulumi/pulumi/cmd/run/error") as { defaultErrorMessage(err: unknown): string };

const [stack, configText, deployedText, recordFile] = process.argv.slice(2);
const config = JSON.parse(configText) as { values: Record<string, string>; secretKeys: string[] };
const deployedOutputs = JSON.parse(deployedText) as Record<string, unknown> | null;
const run: ProgramRun = { acted: [], registrations: [], failures: [], exports: {}, unhandled: [], rejectionHandled: 0, warnings: [] };
let programError: unknown;
const unhandledReasons: unknown[] = [];

function describe(error: unknown): ReportedError {
    return {
        name: error instanceof Error ? error.name : typeof error,
        message: error instanceof Error ? error.message : String(error),
        isRunError: pulumi.RunError.isInstance(error),
        formatted: defaultErrorMessage(error),
        sameAsProgramError: programError !== undefined && error === programError,
    };
}

process.on("unhandledRejection", (reason) => {
    unhandledReasons.push(reason);
});
process.on("rejectionHandled", () => {
    run.rejectionHandled++;
});
process.on("warning", (warning) => {
    run.warnings.push(`${warning.name}: ${warning.message}`);
});
process.on("exit", () => {
    run.unhandled = unhandledReasons.map(describe);
    run.failures.push(...run.unhandled.map((e) => e.message));
    fs.writeFileSync(recordFile, JSON.stringify(run));
});

async function main(): Promise<void> {
    await pulumi.runtime.setMocks({
        async newResource(args) {
            run.acted.push({ type: args.type, name: args.name, inputs: args.inputs });
            // What a provider would compute: the reference's outputs, a generated secret's value.
            const state = args.type === "pulumi:pulumi:StackReference"
                ? { ...args.inputs, outputs: deployedOutputs ?? {}, secretOutputNames: [] }
                : args.type.startsWith("random:") ? { ...args.inputs, result: `generated-${args.name}` }
                    : args.type.startsWith("tls:") ? { ...args.inputs, ...mockTlsOutputs(args.type, args.name) } : args.inputs;
            return { id: `${args.name}-id`, state };
        },
        call(args) {
            return args.inputs;
        },
    }, PROJECT, stack, false, "organization");

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
    let program: Record<string, unknown> = {};
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            program = await import("../../index");
            return program;
        });
    } catch (err) {
        programError = err;
        run.programError = describe(err);
        run.failures.push(run.programError.message);
    }
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    if (programError === undefined) {
        for (const [name, value] of Object.entries(program)) {
            run.exports[name] = await new Promise((resolve) => (pulumi.output(value) as pulumi.Output<unknown>).apply(resolve));
        }
    }
}

main().catch((err) => {
    run.failures.push(`harness: ${err instanceof Error ? err.message : String(err)}`);
});
