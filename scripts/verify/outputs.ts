/**
 * Credentials for `verify`: the stack's own outputs (`pulumi stack output --show-secrets --json`, the values the
 * program exports as secrets) or flags. They are only ever sent to the service they open, never printed.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { KONG_CONSUMERS } from "../../settings";

export type StackOutputs = Record<string, unknown>;

export interface Credentials {
    redisPassword?: string;
    /** Key-auth key of the first consumer that has one (bss-frontend unless overridden). */
    kongApiKey?: string;
    kongOperatorPassword?: string;
}

/** Documented dev passphrase of the project-local state, as scripts/up.sh uses it when none is set. */
export const DEV_PASSPHRASE = "bss-dev-passphrase";

/**
 * Runs `pulumi stack output --stack <stack> --show-secrets --json` in `cwd` within `timeoutMs`. The output is
 * parsed here and never echoed; an error carries pulumi's last stderr line only.
 */
export function readOutputsWithPulumi(stack: string, cwd: string, timeoutMs: number, pulumi = "pulumi"): Promise<StackOutputs> {
    return new Promise((resolve, reject) => {
        const child = spawn(pulumi, ["stack", "output", "--stack", stack, "--show-secrets", "--json"], {
            cwd,
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? DEV_PASSPHRASE },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`pulumi stack output gave no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        child.on("error", (error: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            reject(new Error(error.code === "ENOENT" ? `the Pulumi CLI (${pulumi}) is not installed` : error.message));
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            if (code !== 0) {
                reject(new Error(`pulumi stack output exited ${code}: ${stderr.trim().split("\n").pop() ?? ""}`));
                return;
            }
            try {
                resolve(JSON.parse(stdout) as StackOutputs);
            } catch {
                reject(new Error("pulumi stack output did not print JSON"));
            }
        });
    });
}

/** Outputs saved earlier with `pulumi stack output --show-secrets --json > FILE` (CI, or a machine without the CLI). */
export function readOutputsFile(file: string): StackOutputs {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as StackOutputs;
    } catch (error) {
        throw new Error(`--outputs-file ${file}: ${(error as Error).message.split("\n")[0]}`);
    }
}

const text = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);

/** What the stack outputs hold (`redisPassword`, `kongApiKeys`, `kongOperatorCredentials`), flags first. */
export function credentialsFrom(outputs: StackOutputs, flags: Credentials): Credentials {
    const keys = (outputs.kongApiKeys ?? {}) as Record<string, unknown>;
    const operator = (outputs.kongOperatorCredentials ?? {}) as Record<string, unknown>;
    return {
        redisPassword: flags.redisPassword ?? text(outputs.redisPassword),
        kongApiKey: flags.kongApiKey ?? KONG_CONSUMERS.map((c) => text(keys[c])).find((k) => k !== undefined),
        kongOperatorPassword: flags.kongOperatorPassword ?? text(operator.password),
    };
}

/** Every secret value, for the report's last redaction pass (user names are not secret and stay readable). */
export function secretValues(credentials: Credentials, outputs: StackOutputs): string[] {
    const operator = (outputs.kongOperatorCredentials ?? {}) as Record<string, unknown>;
    const candidates = [
        ...Object.values(credentials),
        outputs.redisPassword,
        outputs.akhqAdminPassword,
        operator.password,
        ...Object.values((outputs.kongApiKeys ?? {}) as Record<string, unknown>),
    ];
    return [...new Set(candidates.filter((v): v is string => typeof v === "string" && v.length > 0))];
}
