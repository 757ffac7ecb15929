/**
 * npm run verify -- --stack NAME [options]
 * Checks a deployed stack from this machine and prints one row per check (or JSON with --json). Exit 0 when
 * healthy, 1 when any check failed or could not reach its target, 2 on bad usage or invalid stack settings.
 */
import * as fs from "fs";
import * as path from "path";
import { readStackConfigFile } from "../../render/render";
import { parseFlags } from "../cli-flags";
import { loadSettings, Settings, SettingsError } from "../../settings";
import { buildReport, CheckResult, exitCode, redactSecrets, renderJson, renderTable, VerifyReport } from "./report";
import { credentialsFrom, Credentials, readOutputsFile, readOutputsWithPulumi, secretValues, StackOutputs } from "./outputs";
import { AddressOverrides, planTargets, readKindPortMap } from "./targets";
import { AREAS, CheckedArea, runChecks } from "./verify";

const ROOT = path.resolve(__dirname, "..", "..");

export const USAGE = `usage: npm run verify -- --stack NAME [--json] [--strict] [--only kafka,redis,kong,akhq] [--timeout-ms N]
    [--config-file FILE] [--outputs-file FILE] [--kubectl PATH] [--kube-context NAME]
    [--kafka-bootstrap HOST:PORT,...] [--redis-address HOST:PORT] [--kong-proxy URL] [--akhq-url URL]
    [--redis-password VALUE] [--kong-key VALUE] [--kong-operator-password VALUE]`;

export interface CliOptions {
    stack: string;
    configFile: string;
    json: boolean;
    strict: boolean;
    areas: CheckedArea[];
    timeoutMs: number;
    outputsFile?: string;
    kubectl: string;
    kubeContext?: string;
    overrides: AddressOverrides;
    credentialFlags: Credentials;
}

const VALUE_FLAGS = [
    "--stack", "--config-file", "--only", "--timeout-ms", "--outputs-file", "--kubectl", "--kube-context",
    "--kafka-bootstrap", "--redis-address", "--kong-proxy", "--akhq-url", "--redis-password", "--kong-key", "--kong-operator-password",
];
const SWITCHES = ["--json", "--strict"];

/** Parses the command line; throws a usage error naming the flag and what it got. */
export function parseArgs(argv: string[], root = ROOT): CliOptions {
    const { values, switches, stack } = parseFlags(argv, VALUE_FLAGS, SWITCHES, USAGE);
    const areas = (values.get("--only") ?? AREAS.join(",")).split(",").map((a) => a.trim()).filter(Boolean);
    const unknown = areas.filter((a) => !(AREAS as readonly string[]).includes(a));
    if (unknown.length > 0 || areas.length === 0) {
        throw new Error(`--only takes areas out of ${AREAS.join(", ")}, got ${JSON.stringify(values.get("--only"))}`);
    }
    const timeoutMs = Number(values.get("--timeout-ms") ?? 10_000);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000) {
        throw new Error(`--timeout-ms must be an integer from 100 to 600000, got ${JSON.stringify(values.get("--timeout-ms"))}`);
    }
    return {
        stack,
        configFile: path.resolve(values.get("--config-file") ?? path.join(root, `Pulumi.${stack}.yaml`)),
        json: switches.has("--json"),
        strict: switches.has("--strict"),
        areas: AREAS.filter((a) => areas.includes(a)),
        timeoutMs,
        outputsFile: values.get("--outputs-file"),
        kubectl: values.get("--kubectl") ?? "kubectl",
        kubeContext: values.get("--kube-context"),
        overrides: {
            kafkaBootstrap: values.get("--kafka-bootstrap")?.split(",").map((a) => a.trim()).filter(Boolean),
            redisAddress: values.get("--redis-address"),
            kongProxy: values.get("--kong-proxy"),
            akhqUrl: values.get("--akhq-url"),
        },
        credentialFlags: {
            redisPassword: values.get("--redis-password"),
            kongApiKey: values.get("--kong-key"),
            kongOperatorPassword: values.get("--kong-operator-password"),
        },
    };
}

/** Credentials each area needs; the stack outputs are read only when a flag does not already give them. */
function neededCredentials(areas: CheckedArea[]): (keyof Credentials)[] {
    return [
        ...(areas.includes("redis") ? ["redisPassword" as const] : []),
        ...(areas.includes("kong") ? ["kongApiKey" as const, "kongOperatorPassword" as const] : []),
    ];
}

async function stackOutputs(options: CliOptions, root: string): Promise<{ outputs: StackOutputs; row: CheckResult }> {
    const row = (status: CheckResult["status"], detail: string): CheckResult => ({ area: "stack", check: "credentials", status, detail });
    const missing = neededCredentials(options.areas).filter((k) => options.credentialFlags[k] === undefined);
    if (options.outputsFile) {
        const outputs = readOutputsFile(options.outputsFile);
        return { outputs, row: row("ok", `stack outputs from ${options.outputsFile}${missing.length < neededCredentials(options.areas).length ? " and flags" : ""}`) };
    }
    if (missing.length === 0) {
        return { outputs: {}, row: row("ok", neededCredentials(options.areas).length === 0 ? "none needed" : "from flags") };
    }
    try {
        const outputs = await readOutputsWithPulumi(options.stack, root, Math.max(options.timeoutMs, 60_000));
        return { outputs, row: row("ok", `pulumi stack output --stack ${options.stack} --show-secrets`) };
    } catch (error) {
        return { outputs: {}, row: row("skipped", `stack outputs not read (${(error as Error).message}); the checks needing ${missing.join(", ")} say so`) };
    }
}

function settingsRow(options: CliOptions, settings: Settings): CheckResult {
    return {
        area: "stack", check: "settings", status: "ok",
        detail: `${path.relative(process.cwd(), options.configFile) || options.configFile}: environment ${settings.environment}, namespace ${settings.namespace}, ${settings.kafka.brokers} brokers, ${settings.topics.length} topics, Redis ${settings.redis.masters} × (1 + ${settings.redis.replicasPerMaster})`,
    };
}

/** The whole run for parsed options: settings, plan, credentials, checks, report. Throws SettingsError on bad config. */
export async function verifyStack(options: CliOptions, root = ROOT): Promise<VerifyReport> {
    if (!fs.existsSync(options.configFile)) {
        throw new Error(`no stack config file ${options.configFile}`);
    }
    const config = readStackConfigFile(options.configFile);
    const settings = loadSettings(config.values, options.stack, new Set(config.secretKeys));
    const kubeContext = options.kubeContext ?? config.values["kubernetes:context"];
    const kindFile = path.join(root, "kind", "cluster.yaml");
    const plan = planTargets(settings, kubeContext, fs.existsSync(kindFile) ? readKindPortMap(kindFile) : undefined, options.overrides);
    const { outputs, row: credentialsRow } = await stackOutputs(options, root);
    const credentials = credentialsFrom(outputs, options.credentialFlags);
    const checks = await runChecks({
        settings, plan, credentials, areas: options.areas, timeoutMs: options.timeoutMs,
        kubectl: { command: options.kubectl, context: kubeContext, namespace: settings.namespace },
    });
    const rows = redactSecrets([settingsRow(options, settings), credentialsRow, ...checks], secretValues(credentials, outputs));
    return buildReport(options.stack, rows, options.strict);
}

async function main(): Promise<number> {
    let options: CliOptions;
    try {
        options = parseArgs(process.argv.slice(2));
    } catch (error) {
        console.error(`verify: ${(error as Error).message}`);
        return 2;
    }
    let report: VerifyReport;
    try {
        report = await verifyStack(options);
    } catch (error) {
        console.error(error instanceof SettingsError ? error.message : `verify: ${(error as Error).message}`);
        return 2;
    }
    process.stdout.write(options.json ? renderJson(report) : renderTable(report));
    return exitCode(report);
}

if (require.main === module) {
    // Exit explicitly: a client library may keep a socket of a silent peer open after its deadline.
    main().then((code) => process.exit(code), (error) => {
        console.error(`verify: ${error instanceof Error ? error.message : error}`);
        process.exit(2);
    });
}
