/** Runs `npm run verify`'s entry point in a child process, as a user would, and returns what it printed. */
import { spawn } from "child_process";
import * as path from "path";
import { ROOT } from "../helpers/render";

export interface CliRun {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Asynchronous, so stand-in servers living in the test process keep answering while the CLI runs. */
export function runVerifyCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(ROOT, "scripts/verify/cli.ts"), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}
