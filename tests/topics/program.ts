/**
 * Runs the real program (index.ts) under Pulumi's mocks in a child process, as the Pulumi runtime runs it
 * (a rejected registration ends the program), and reports what reached the engine: every RegisterResource
 * request with the options the engine acts on (provider, dependencies, protect) and every resource the engine
 * acted on. Stack-wide transforms run before a registration is acted on, as the engine runs them; the
 * stack's own StackReference answers with the given "last deployment" outputs.
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

export interface ProgramRun {
    /** Resources the engine acted on (registered or read), in order. */
    acted: { type: string; name: string; inputs: Record<string, any> }[];
    registrations: Registration[];
    /** Messages of registrations refused by a stack transform, of rejections nobody handled, of the program's own error. */
    failures: string[];
    /** The program's exports (stack outputs), resolved. */
    exports: Record<string, unknown>;
}

const ROOT = path.resolve(__dirname, "..", "..");

export function runProgram(stack: string, config: StackConfig, deployedOutputs?: Record<string, unknown>): Promise<ProgramRun> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-program-"));
    const recordFile = path.join(dir, "record.json");
    const args = ["-r", "ts-node/register/transpile-only", path.join(__dirname, "program-child.ts"), stack, JSON.stringify(config), JSON.stringify(deployedOutputs ?? null), recordFile];
    return new Promise<ProgramRun>((resolve, reject) => {
        execFile(process.execPath, args, { cwd: ROOT, timeout: 60_000 }, (err, _stdout, stderr) => {
            if (!fs.existsSync(recordFile)) {
                reject(new Error(`program run left no record (${err?.message ?? "no error"}):\n${stderr.slice(-4000)}`));
                return;
            }
            resolve(JSON.parse(fs.readFileSync(recordFile, "utf8")) as ProgramRun);
        });
    }).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}
