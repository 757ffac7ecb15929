/**
 * The real program (index.ts) under Pulumi's mocks: what AKHQ registers per environment, how its admin password
 * is generated or taken from `bss:akhqPassword`, and that only Secrets and secret outputs ever carry it.
 */
import * as yaml from "js-yaml";
import { sha256Hex } from "../../components/shared/checksum";
import { mockTlsOutputs, StackConfig } from "../../render/render";
import { inlineConfig, stackFile } from "../helpers/render";

jest.setTimeout(60_000);

type Obj = Record<string, any>;

interface Registered {
    type: string;
    name: string;
    /** As the engine receives them: secrets still wrapped. */
    inputs: Obj;
}

interface Run {
    registered: Registered[];
    exports: Obj;
    isSecret(output: unknown): Promise<boolean>;
    valueOf(output: unknown): Promise<unknown>;
    secretSig: { key: string; sig: string };
}

/** What the mock provider answers for a random password: distinct per resource, so tests can tell them apart. */
const generated = (name: string) => `generated-${name}`;

/** Runs index.ts in a fresh module registry (Pulumi's engine state is per registry). */
async function runProgram(stack: string, config: StackConfig): Promise<Run> {
    let run: Run | undefined;
    await jest.isolateModulesAsync(async () => {
        const pulumi: typeof import("@pulumi/pulumi") = await import("@pulumi/pulumi");
        const registered: Registered[] = [];
        await pulumi.runtime.setMocks({
            newResource(args) {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                const state = args.type === "random:index/randomPassword:RandomPassword" ? { ...args.inputs, result: generated(args.name) }
                    : args.type.startsWith("tls:") ? { ...args.inputs, ...mockTlsOutputs(args.type, args.name) } : args.inputs;
                return { id: `${args.name}-id`, state };
            },
            call(args) {
                return args.inputs;
            },
        }, "bss", stack, false);
        pulumi.runtime.setAllConfig(config.values, config.secretKeys);
        const exports: Obj = await import("../../index");
        await (pulumi.runtime as typeof pulumi.runtime & { waitForRPCs(): Promise<void> }).waitForRPCs();
        run = {
            registered,
            exports,
            isSecret: (output) => pulumi.isSecret(output as import("@pulumi/pulumi").Output<unknown>),
            valueOf: (output) => new Promise((resolve) => (output as import("@pulumi/pulumi").Output<unknown>).apply(resolve)),
            secretSig: { key: pulumi.runtime.specialSigKey, sig: pulumi.runtime.specialSecretSig },
        };
    });
    return run!;
}

function unwrap(value: unknown, sig: Run["secretSig"]): unknown {
    if (Array.isArray(value)) {
        return value.map((v) => unwrap(v, sig));
    }
    if (value && typeof value === "object") {
        const record = value as Obj;
        if (record[sig.key] === sig.sig) {
            return unwrap(record.value, sig);
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrap(v, sig)]));
    }
    return value;
}

const hasSecretMarker = (value: unknown, sig: Run["secretSig"]): boolean => JSON.stringify(value).includes(sig.sig);

function kubernetes(run: Run, kind: string, name: string): Registered {
    const found = run.registered.find((r) => r.type.startsWith("kubernetes:") && r.type.endsWith(`:${kind}`) && r.inputs.metadata?.name === name);
    if (!found) {
        throw new Error(`no ${kind} ${name} registered`);
    }
    return found;
}

const credentialsOf = (run: Run): Obj => yaml.load((unwrap(kubernetes(run, "Secret", "akhq-credentials").inputs, run.secretSig) as Obj).stringData["credentials.yml"]) as Obj;
const annotationsOf = (run: Run): Obj => kubernetes(run, "Deployment", "akhq").inputs.spec.template.metadata.annotations;
const randomPasswords = (run: Run) => run.registered.filter((r) => r.type === "random:index/randomPassword:RandomPassword" && r.name.startsWith("akhq-"));

describe("prod stack (login on)", () => {
    let run: Run;
    beforeAll(async () => {
        run = await runProgram("prod", stackFile("prod"));
    });

    it("generates the admin password and a session-signing key with @pulumi/random", () => {
        const byName = Object.fromEntries(randomPasswords(run).map((r) => [r.name, r.inputs]));
        expect(Object.keys(byName).sort()).toEqual(["akhq-admin-password", "akhq-jwt-secret"]);
        expect(byName["akhq-admin-password"]).toMatchObject({ length: 24, special: false });
        expect(byName["akhq-jwt-secret"].length).toBeGreaterThanOrEqual(64);
    });

    it("exports the admin password as a Pulumi secret and the login and URL in plain", async () => {
        expect(await run.isSecret(run.exports.akhqAdminPassword)).toBe(true);
        expect(await run.valueOf(run.exports.akhqAdminPassword)).toBe(generated("akhq-admin-password"));
        expect(run.exports.akhqAdminUser).toBe("admin");
        expect(run.exports.akhqUrl).toBe("http://akhq.bss.svc.cluster.local:8080/akhq");
    });

    it("puts the password's SHA-256 and the signing key in the credentials Secret, sent to the engine as a secret", () => {
        const secret = kubernetes(run, "Secret", "akhq-credentials");
        expect(hasSecretMarker(secret.inputs.stringData, run.secretSig)).toBe(true);
        const credentials = credentialsOf(run);
        expect(credentials.akhq.security["basic-auth"][0]).toMatchObject({ username: "admin", password: sha256Hex(generated("akhq-admin-password")), passwordHash: "SHA256" });
        expect(credentials.micronaut.security.token.jwt.signatures.secret.generator.secret).toBe(generated("akhq-jwt-secret"));
        expect(JSON.stringify(credentials)).not.toContain(generated("akhq-admin-password"));
    });

    it("keeps the password, its hash and the signing key out of every ConfigMap and out of the Deployment", () => {
        const secrets = [generated("akhq-admin-password"), sha256Hex(generated("akhq-admin-password")), generated("akhq-jwt-secret")];
        const configMaps = run.registered.filter((r) => r.type === "kubernetes:core/v1:ConfigMap");
        expect(configMaps.length).toBeGreaterThan(0);
        for (const holder of [...configMaps, kubernetes(run, "Deployment", "akhq")]) {
            const text = JSON.stringify(unwrap(holder.inputs, run.secretSig));
            expect(secrets.filter((s) => text.includes(s))).toEqual([]);
        }
        // Nothing secret reaches the Deployment, so its diff stays readable in `pulumi preview`.
        expect(hasSecretMarker(kubernetes(run, "Deployment", "akhq").inputs, run.secretSig)).toBe(false);
    });

    it("reads the login-on application.yml from the ConfigMap", () => {
        const config = yaml.load(kubernetes(run, "ConfigMap", "akhq-config").inputs.data["application.yml"]) as Obj;
        expect(config.micronaut.security.enabled).toBe(true);
        expect(config.akhq.connections.bss.properties["bootstrap.servers"]).toBe("kafka.bss.svc.cluster.local:9092");
        expect(config.akhq.security["default-group"]).toBe("anonymous");
        expect(config.akhq.security.groups.anonymous).toHaveLength(1);
    });
});

describe("prod stack with bss:akhqPassword", () => {
    const override = "operator-chosen-Secret-42";
    let run: Run;
    let generatedRun: Run;
    beforeAll(async () => {
        const base = stackFile("prod");
        run = await runProgram("prod", { values: { ...base.values, "bss:akhqPassword": override }, secretKeys: [...base.secretKeys, "bss:akhqPassword"] });
        generatedRun = await runProgram("prod", stackFile("prod"));
    });

    it("uses the override instead of generating a password, and still exports it as a secret", async () => {
        expect(randomPasswords(run).map((r) => r.name)).toEqual(["akhq-jwt-secret"]);
        expect(await run.isSecret(run.exports.akhqAdminPassword)).toBe(true);
        expect(await run.valueOf(run.exports.akhqAdminPassword)).toBe(override);
        expect(credentialsOf(run).akhq.security["basic-auth"][0].password).toBe(sha256Hex(override));
    });

    it("rolls the pod when the credentials change", () => {
        expect(annotationsOf(run)["bss/credentials-checksum"]).toMatch(/^[0-9a-f]{16}$/);
        expect(annotationsOf(run)["bss/credentials-checksum"]).not.toBe(annotationsOf(generatedRun)["bss/credentials-checksum"]);
        expect(annotationsOf(run)["bss/config-checksum"]).toBe(annotationsOf(generatedRun)["bss/config-checksum"]);
    });
});

describe("dev stack (login off)", () => {
    let run: Run;
    beforeAll(async () => {
        run = await runProgram("dev", stackFile("dev"));
    });

    it("creates no password, no credentials Secret and exports no password", () => {
        expect(randomPasswords(run)).toEqual([]);
        expect(() => kubernetes(run, "Secret", "akhq-credentials")).toThrow(/no Secret akhq-credentials/);
        // No value either way; null is how an export says so without the engine's warning about undefined ones.
        expect(run.exports.akhqAdminPassword ?? null).toBeNull();
        expect(run.exports.akhqAdminUser ?? null).toBeNull();
    });

    it("turns AKHQ's security off and exposes the UI on the kind-mapped nodePort", () => {
        const config = yaml.load(kubernetes(run, "ConfigMap", "akhq-config").inputs.data["application.yml"]) as Obj;
        expect(config.micronaut.security.enabled).toBe(false);
        expect(config.akhq.security).toEqual({ "default-group": "admin" });
        expect(kubernetes(run, "Service", "akhq").inputs.spec.ports).toEqual([{ name: "http", port: 8080, targetPort: "http", nodePort: 30083 }]);
    });
});

describe("another namespace", () => {
    it("points AKHQ at that namespace's Kafka Service", async () => {
        const run = await runProgram("other", inlineConfig({
            "bss:namespace": "telco-core",
            "bss:environment": "dev",
            "bss:kafka": { brokers: 1, externalHost: "localhost" },
            "bss:zookeeper": { replicas: 1 },
            "bss:redis": { masters: 1, replicasPerMaster: 0 },
        }));
        const config = yaml.load(kubernetes(run, "ConfigMap", "akhq-config").inputs.data["application.yml"]) as Obj;
        expect(config.akhq.connections["telco-core"].properties["bootstrap.servers"]).toBe("kafka.telco-core.svc.cluster.local:9092");
        expect(run.exports.akhqUrl).toBe("http://akhq.telco-core.svc.cluster.local:8080/akhq");
    });
});
