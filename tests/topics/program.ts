/**
 * Runs the real program (index.ts) under Pulumi's mocks in a child process, so its process-wide state and
 * rejection handlers are its own, and reports what reached the engine: every RegisterResource
 * request with the options the engine acts on (provider, dependencies, protect), every resource the engine
 * acted on, and the errors the runtime would report. The program runs inside the root stack as `pulumi up` runs
 * it; the stack's own StackReference answers with the given "last deployment" outputs.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StackConfig } from "../../render/render";

export interface Registration {
    type: string;
    name: string;
    inputs: Record<string, any>;
    protect: boolean;
    /** URNs this resource depends on. */
    dependencies: string[];
    /** `<provider urn>::<provider id>`, or "" for the default provider. */
    provider: string;
    urn: string;
}

/** An error as the Pulumi runtime would report it. */
export interface ReportedError {
    name: string;
    message: string;
    /** `pulumi.RunError`: the runtime prints its message only, no stack. */
    isRunError: boolean;
    /** What the runtime's formatter (`@pulumi/pulumi/cmd/run/error.js`) makes of it. */
    formatted: string;
    /** The very object the program run rejected with (the runtime reports each object once). */
    sameAsProgramError: boolean;
}

export interface ProgramRun {
    /** Resources the engine acted on (registered or read), in order; the root stack included. */
    acted: { type: string; name: string; inputs: Record<string, any> }[];
    registrations: Registration[];
    /** Messages of the program's own error and of every rejection nobody handled. */
    failures: string[];
    /** The program's exports (stack outputs), resolved; empty when the run failed. */
    exports: Record<string, unknown>;
    /** What the root stack's run (`runInPulumiStack`, as `pulumi up` runs the program) rejected with, if it did. */
    programError?: ReportedError;
    /** Every rejection nobody handled, in order. */
    unhandled: ReportedError[];
    /** Rejections handled only after Node had already reported them (each is a PromiseRejectionHandledWarning). */
    rejectionHandled: number;
    /** Process warnings, `<name>: <message>`. */
    warnings: string[];
}

const ROOT = path.resolve(__dirname, "..", "..");

export function runProgram(stack: string, config: StackConfig, deployedOutputs?: Record<string, unknown>): Promise<ProgramRun> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-program-"));
    const recordFile = path.join(dir, "record.json");
    const args = ["-r", "ts-node/register/transpile-only", path.join(__dirname, "program-child.ts"), stack, JSON.stringify(config), JSON.stringify(deployedOutputs ?? null), recordFile];
    return new Promise<ProgramRun>((resolve, reject) => {
        execFile(process.execPath, args, { cwd: ROOT, timeout: 120_000 }, (err, _stdout, stderr) => {
            if (!fs.existsSync(recordFile)) {
                reject(new Error(`program run left no record (${err?.message ?? "no error"}):\n${stderr.slice(-4000)}`));
                return;
            }
            resolve(JSON.parse(fs.readFileSync(recordFile, "utf8")) as ProgramRun);
        });
    }).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}
