/**
 * npm run render -- --stack NAME [--config-file FILE] [--out DIR]
 * Evaluates index.ts with Pulumi's mock engine (no cluster, no CLI, no network) and writes what the stack
 * would create. Exit 1 with the validation message, and nothing written, when the config is invalid.
 */
import * as fs from "fs";
import * as path from "path";
import { readStackConfigFile, renderProgram } from "../render/render";
import { collectOutputs, summarise, toFiles } from "../render/outputs";
import { SettingsError } from "../settings";

const ROOT = path.resolve(__dirname, "..");

function parseArgs(argv: string[]): { stack: string; configFile: string; out: string } {
    const args = new Map<string, string>();
    for (let i = 0; i < argv.length; i += 2) {
        if (!["--stack", "--config-file", "--out"].includes(argv[i]) || argv[i + 1] === undefined) {
            throw new Error(`usage: npm run render -- --stack NAME [--config-file FILE] [--out DIR] (got ${JSON.stringify(argv[i])})`);
        }
        args.set(argv[i], argv[i + 1]);
    }
    const stack = args.get("--stack");
    if (!stack) {
        throw new Error("usage: npm run render -- --stack NAME [--config-file FILE] [--out DIR]");
    }
    return {
        stack,
        configFile: path.resolve(args.get("--config-file") ?? path.join(ROOT, `Pulumi.${stack}.yaml`)),
        out: path.resolve(args.get("--out") ?? path.join(ROOT, "out", stack)),
    };
}

async function main(): Promise<number> {
    const { stack, configFile, out } = parseArgs(process.argv.slice(2));
    if (!fs.existsSync(configFile)) {
        console.error(`render: no stack config file ${configFile}`);
        return 1;
    }
    let outputs;
    try {
        const resources = await renderProgram(stack, readStackConfigFile(configFile), () => import("../index"));
        outputs = collectOutputs(resources);
    } catch (err) {
        if (err instanceof SettingsError) {
            console.error(err.message);
            return 1;
        }
        throw err;
    }
    for (const [file, text] of Object.entries(toFiles(outputs))) {
        fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
        fs.writeFileSync(path.join(out, file), text);
    }
    console.log(`Rendered stack "${stack}" from ${path.relative(process.cwd(), configFile) || configFile} into ${out}`);
    for (const [kind, count] of summarise(outputs)) {
        console.log(`  ${kind.padEnd(28)} ${count}`);
    }
    return 0;
}

main().then((code) => process.exit(code), (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
