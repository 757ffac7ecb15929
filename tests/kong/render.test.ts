import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { renderIsolated, ROOT, stackFile } from "../helpers/render";
import { readStackConfigFile, REDACTED, SECRET_PLACEHOLDER, StackConfig } from "../../render/render";
import { toFiles } from "../../render/outputs";
import { validateKongConfig } from "../../components/kong/validate";

jest.setTimeout(180_000);

const STACKS: [string, () => StackConfig][] = [
    ["dev", () => stackFile("dev")],
    ["prod", () => stackFile("prod")],
    ["large", () => readStackConfigFile(path.join(ROOT, "tests", "fixtures", "Pulumi.large.yaml"))],
];

/** The keys of the docker-compose original, spelled out only here, to prove they never ship. */
const ORIGINAL_KEYS = ["frontend", "mobile", "partner"].map((who, i) => `${who}_api_key_${[123, 456, 789][i]}`);

describe.each(STACKS)("render of stack %s", (stack, config) => {
    let files: Record<string, string>;
    beforeAll(async () => {
        files = toFiles(await renderIsolated(stack, config()));
    });

    it("writes kong/kong.yml with every key and password redacted", () => {
        const doc = yaml.load(files["kong/kong.yml"]) as Record<string, any>;
        expect(doc._format_version).toBe("3.0");
        const credentials = doc.consumers.flatMap((c: any) => [...(c.keyauth_credentials ?? []).map((k: any) => k.key), ...(c.basicauth_credentials ?? []).map((b: any) => b.password)]);
        expect(credentials).toEqual([REDACTED, REDACTED, REDACTED, REDACTED]);
        expect(files["kong/kong.yml"]).not.toContain(SECRET_PLACEHOLDER);
    });

    it("writes a kong.yml the Kong 3.9 rules accept", () => {
        const doc = yaml.load(files["kong/kong.yml"]) as Record<string, any>;
        // Redaction makes every credential the same text; real ones are distinct random values.
        doc.consumers.forEach((c: any, i: number) => (c.keyauth_credentials ?? []).forEach((k: any) => { k.key = `distinct-key-${i}`; }));
        expect(validateKongConfig(doc)).toEqual([]);
    });

    it("records every argument of the kong chart in helm-releases.yaml, values last", () => {
        const releases = yaml.load(files["helm-releases.yaml"]) as Record<string, any>[];
        const kong = releases.filter((r) => r.chart === "kong");
        expect(kong).toHaveLength(1);
        const { values, ...args } = kong[0];
        const configSecret = yaml.loadAll(files["manifests.yaml"]).find((m: any) => m?.kind === "Secret" && m.metadata.name === "kong-declarative-config") as any;
        expect(args).toEqual({ chart: "kong", name: "kong", namespace: configSecret.metadata.namespace, repositoryOpts: { repo: "https://charts.konghq.com" }, skipCrds: true, version: "3.4.1" });
        expect(Object.keys(kong[0]).pop()).toBe("values");
        expect(values.dblessConfig.secret).toBe("kong-declarative-config");
    });

    it("never contains the original hard-coded keys", () => {
        for (const text of Object.values(files)) {
            for (const key of ORIGINAL_KEYS) {
                expect(text).not.toContain(key);
            }
        }
    });
});

it("keeps the original hard-coded keys out of every shipped file", () => {
    const shipped: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                walk(full);
            } else {
                shipped.push(full);
            }
        }
    };
    for (const dir of ["components", "settings", "charts", "render", "scripts", "kind"]) {
        walk(path.join(ROOT, dir));
    }
    shipped.push(...["index.ts", "README.md", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"].map((f) => path.join(ROOT, f)));
    expect(shipped.length).toBeGreaterThan(20);
    for (const file of shipped) {
        const text = fs.readFileSync(file, "utf8");
        for (const key of ORIGINAL_KEYS) {
            expect({ file: path.relative(ROOT, file), found: text.includes(key) }).toEqual({ file: path.relative(ROOT, file), found: false });
        }
    }
});
