import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT } from "../helpers/render";
import { SECRET_PLACEHOLDER } from "../../render/render";

const FILES = ["manifests.yaml", "helm-releases.yaml", "kafka-topics.yaml", "kong/kong.yml"];

function render(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", path.join(ROOT, "scripts", "render.ts"), ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let tmp: string;
beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bss-render-"));
});
afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
});

it("writes the four files for the dev stack and prints a summary by kind", () => {
    const out = path.join(tmp, "dev");
    const result = render("--stack", "dev", "--out", out);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const file of FILES) {
        expect(fs.existsSync(path.join(out, file))).toBe(true);
    }
    const manifests = yaml.loadAll(fs.readFileSync(path.join(out, "manifests.yaml"), "utf8")) as Record<string, any>[];
    expect(manifests.find((m) => m.kind === "Namespace")?.metadata.name).toBe("bss");
    expect(result.stdout).toMatch(/^ {2}Namespace +1$/m);
    const topics = yaml.load(fs.readFileSync(path.join(out, "kafka-topics.yaml"), "utf8")) as { topics: unknown[] };
    expect(Array.isArray(topics.topics)).toBe(true);
});

it("exits 1 with every problem and writes nothing for an invalid stack file", () => {
    const file = path.join(tmp, "Pulumi.broken.yaml");
    fs.writeFileSync(file, yaml.dump({ config: { "bss:kafka": { brokers: "three" }, "bss:zookeeper": { replicas: 2 } } }));
    const out = path.join(tmp, "broken");
    const result = render("--stack", "broken", "--config-file", file, "--out", out);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("bss:kafka.brokers must be an integer from 1 to 50, got \"three\"");
    expect(result.stderr).toContain("bss:zookeeper.replicas must be odd");
    expect(fs.existsSync(out)).toBe(false);
});

it("never writes a secure config value, nor the placeholder that stands in for it", () => {
    const cipher = "v1:q9c2Lx0cVb3u1Q==:zN0tAR3alS3cr3tButEncrypted";
    const file = path.join(tmp, "Pulumi.secret.yaml");
    fs.writeFileSync(file, yaml.dump({
        config: {
            "bss:environment": "dev",
            "bss:redisPassword": { secure: cipher },
            "bss:kongApiKeys": { "bss-mobile": { secure: cipher } },
        },
    }));
    const out = path.join(tmp, "secret");
    const result = render("--stack", "secret", "--config-file", file, "--out", out);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const name of FILES) {
        const text = fs.readFileSync(path.join(out, name), "utf8");
        expect(text).not.toContain(cipher);
        expect(text).not.toContain(SECRET_PLACEHOLDER);
    }
});

it("refuses to run without a stack name", () => {
    const result = render("--out", path.join(tmp, "none"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("usage: npm run render -- --stack NAME");
});

it("refuses a stack without a stack file", () => {
    const result = render("--stack", "nosuchstack", "--out", path.join(tmp, "nosuch"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no stack config file .*Pulumi\.nosuchstack\.yaml/);
});
