import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { credentialsFrom, DEV_PASSPHRASE, readOutputsFile, readOutputsWithPulumi, secretValues } from "../../scripts/verify/outputs";

let dir: string;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-verify-outputs-"));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in for the Pulumi CLI: records its argv and passphrase, then prints `stdout` or fails. */
function pulumiStandIn(name: string, body: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!${process.execPath}\n${body}\n`, { mode: 0o755 });
    return file;
}

const OUTPUTS = {
    redisPassword: "redis-password-0123456789",
    kongApiKeys: { "bss-frontend": "frontend-key-0123456789abcdef", "bss-mobile": "mobile-key-0123456789abcdefg" },
    kongOperatorCredentials: { username: "bss-operator", password: "operator-password-012345" },
    akhqUrl: "http://akhq.bss.svc.cluster.local:8080/akhq",
};

describe("credentials for verify", () => {
    it("reads the stack outputs with the Pulumi CLI, with secrets shown, the dev passphrase unless one is set", async () => {
        const standIn = pulumiStandIn("pulumi-ok", `
            require("fs").writeFileSync(${JSON.stringify(path.join(dir, "argv.json"))}, JSON.stringify({ argv: process.argv.slice(2), passphrase: process.env.PULUMI_CONFIG_PASSPHRASE, cwd: process.cwd() }));
            process.stdout.write(${JSON.stringify(JSON.stringify(OUTPUTS))});`);
        const saved = process.env.PULUMI_CONFIG_PASSPHRASE;
        delete process.env.PULUMI_CONFIG_PASSPHRASE;
        try {
            expect(await readOutputsWithPulumi("dev", dir, 10_000, standIn)).toEqual(OUTPUTS);
        } finally {
            if (saved !== undefined) {
                process.env.PULUMI_CONFIG_PASSPHRASE = saved;
            }
        }
        expect(JSON.parse(fs.readFileSync(path.join(dir, "argv.json"), "utf8"))).toEqual({
            argv: ["stack", "output", "--stack", "dev", "--show-secrets", "--json"], passphrase: DEV_PASSPHRASE, cwd: fs.realpathSync(dir),
        });
    });

    it("rejects with pulumi's last error line, a missing CLI by name, a silent CLI after the bound", async () => {
        const failing = pulumiStandIn("pulumi-fail", `process.stderr.write("warning: x\\nerror: no stack named 'dev' found\\n"); process.exit(255);`);
        await expect(readOutputsWithPulumi("dev", dir, 10_000, failing)).rejects.toThrow("pulumi stack output exited 255: error: no stack named 'dev' found");
        await expect(readOutputsWithPulumi("dev", dir, 10_000, path.join(dir, "absent"))).rejects.toThrow(`the Pulumi CLI (${path.join(dir, "absent")}) is not installed`);
        const silent = pulumiStandIn("pulumi-silent", "setInterval(() => undefined, 1000);");
        await expect(readOutputsWithPulumi("dev", dir, 300, silent)).rejects.toThrow("pulumi stack output gave no answer within 300 ms");
    });

    it("reads a saved outputs file, and names the file when it is not JSON", () => {
        const good = path.join(dir, "outputs.json");
        fs.writeFileSync(good, JSON.stringify(OUTPUTS));
        expect(readOutputsFile(good)).toEqual(OUTPUTS);
        const bad = path.join(dir, "bad.json");
        fs.writeFileSync(bad, "{ not json");
        expect(() => readOutputsFile(bad)).toThrow(`--outputs-file ${bad}:`);
    });

    it("takes flags over outputs, the first consumer's key, and the operator password", () => {
        expect(credentialsFrom(OUTPUTS, {})).toEqual({
            redisPassword: OUTPUTS.redisPassword, kongApiKey: OUTPUTS.kongApiKeys["bss-frontend"], kongOperatorPassword: OUTPUTS.kongOperatorCredentials.password,
        });
        expect(credentialsFrom(OUTPUTS, { kongApiKey: "flag-key-0123456789abcdefghij" }).kongApiKey).toBe("flag-key-0123456789abcdefghij");
        expect(credentialsFrom({ kongApiKeys: { "bss-partner": "partner-key-0123456789abcdef" } }, {}).kongApiKey).toBe("partner-key-0123456789abcdef");
        expect(credentialsFrom({}, {})).toEqual({ redisPassword: undefined, kongApiKey: undefined, kongOperatorPassword: undefined });
    });

    it("lists every secret for redaction, but not user names or URLs", () => {
        const secrets = secretValues(credentialsFrom(OUTPUTS, {}), OUTPUTS);
        expect(new Set(secrets)).toEqual(new Set([OUTPUTS.redisPassword, ...Object.values(OUTPUTS.kongApiKeys), OUTPUTS.kongOperatorCredentials.password]));
    });
});
