/**
 * Runs a component's start script outside any pod, with a fake env and a stand-in `java` that records its
 * arguments and the config file it was given instead of starting a JVM. For checking the per-pod config a
 * script produces; the integration tests run the same scripts for real.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface ScriptRun {
    code: number;
    stdout: string;
    stderr: string;
    /** Arguments `java` got, one per entry (empty when the script failed before starting it). */
    javaArgs: string[];
    /** The config file `java` was handed (its last argument), as it was at that moment. */
    javaConfig: string;
    dir: string;
}

/** A scratch folder, removed by the caller with `fs.rmSync(dir, { recursive: true })`. */
export function scratchDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "bss-script-"));
}

export function runStartScript(script: string, dir: string, env: Record<string, string>): ScriptRun {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "java"), [
        "#!/usr/bin/env bash",
        `printf '%s\\n' "$@" > "${dir}/java-args"`,
        `for last in "$@"; do :; done; cp "$last" "${dir}/java-config"`,
        "",
    ].join("\n"), { mode: 0o755 });
    const result = spawnSync("bash", [script], { env: { PATH: `${bin}:/usr/bin:/bin`, ...env }, encoding: "utf8", timeout: 10_000 });
    const read = (name: string) => (fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), "utf8") : "");
    return {
        code: result.status ?? -1,
        stdout: result.stdout,
        stderr: result.stderr,
        javaArgs: read("java-args").split("\n").filter(Boolean),
        javaConfig: read("java-config"),
        dir,
    };
}
