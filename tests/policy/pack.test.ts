/**
 * The pack itself, served the way `pulumi preview --policy-pack policy` serves it: @pulumi/pulumi's
 * run-policy-pack loads policy/ (TypeScript, type-checked) in a child process with the stack's config in
 * PULUMI_CONFIG, prints its gRPC port, and this test speaks the engine's side of the Analyzer protocol to it on
 * loopback. It proves what the in-process tests cannot: the pack starts, reads the stack settings, and answers
 * with mandatory violations.
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as analyzerpb from "@pulumi/pulumi/proto/analyzer_pb";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { ROOT, stackFile } from "../helpers/render";

// The gRPC and protobuf runtimes @pulumi/pulumi's generated client is built on, not copies of our own.
const fromPulumi = (module: string) => require(require.resolve(module, { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] }));
const grpc = fromPulumi("@grpc/grpc-js");
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb");
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb");

const LEAK_CHECK_PASSWORD = "packtestredispassword0123";

let pack: ChildProcess;
let stderr = "";
let client: any;

function call<T>(method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (err: Error | null, response: T) => (err ? reject(err) : resolve(response))));
}

function options(): analyzerpb.AnalyzerResourceOptions {
    const opts = new analyzerpb.AnalyzerResourceOptions();
    opts.setCustomtimeouts(new analyzerpb.AnalyzerResourceOptions.CustomTimeouts());
    return opts;
}

async function analyze(type: string, name: string, props: Record<string, unknown>): Promise<analyzerpb.AnalyzeDiagnostic[]> {
    const request = new analyzerpb.AnalyzeRequest();
    request.setType(type);
    request.setName(name);
    request.setUrn(`urn:pulumi:dev::bss::${type}::${name}`);
    request.setProperties(Struct.fromJavaScript(props));
    request.setOptions(options());
    const response = await call<analyzerpb.AnalyzeResponse>("analyze", request);
    return response.getDiagnosticsList();
}

/** "policy: message"; CrossGuard sends the policy's description on the first line of each message. */
const summary = (diagnostics: analyzerpb.AnalyzeDiagnostic[]) => diagnostics.map((d) => `${d.getPolicyname()}: ${d.getMessage().split("\n").slice(1).join(" ")}`);

beforeAll(async () => {
    const config = stackFile("dev");
    pack = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."], {
        cwd: path.join(ROOT, "policy"),
        env: {
            ...process.env,
            PULUMI_CONFIG: JSON.stringify({ ...config.values, "bss:redisPassword": LEAK_CHECK_PASSWORD }),
            PULUMI_NODEJS_STACK: "dev",
            PULUMI_NODEJS_PROJECT: "bss",
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    pack.stderr!.on("data", (chunk) => { stderr += chunk; });
    const port = await new Promise<string>((resolve, reject) => {
        let stdout = "";
        pack.stdout!.on("data", (chunk) => {
            stdout += chunk;
            const line = /^(\d+)\n/.exec(stdout);
            if (line) {
                resolve(line[1]);
            }
        });
        pack.on("exit", (code) => reject(new Error(`the policy pack exited with ${code} before serving:\n${stdout}\n${stderr}`)));
    });
    client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 240_000);

afterAll(() => {
    client?.close();
    pack?.kill();
});

it("serves the seven policies, all mandatory", async () => {
    const info = await call<analyzerpb.AnalyzerInfo>("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe("bss");
    expect(info.getPoliciesList().map((p) => p.getName()).sort()).toEqual([
        "configmap-holds-no-secret", "container-resources", "helm-charts-skip-crds", "pinned-images",
        "restricted-pod-security", "secrets-stay-secret", "services-exposed-only-as-configured",
    ]);
    expect(info.getPoliciesList().every((p) => p.getEnforcementlevel() === analyzerpb.EnforcementLevel.MANDATORY)).toBe(true);
});

it("refuses a root, unpinned, unbounded Deployment and names every rule it breaks", async () => {
    const diagnostics = await analyze("kubernetes:apps/v1:Deployment", "bad", {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "bad", namespace: "bss" },
        spec: { template: { spec: { hostNetwork: true, containers: [{ name: "app", image: "nginx:latest" }] } } },
    });
    expect(diagnostics.every((d) => d.getEnforcementlevel() === analyzerpb.EnforcementLevel.MANDATORY)).toBe(true);
    expect(summary(diagnostics)).toEqual(expect.arrayContaining([
        expect.stringContaining("pinned-images: container \"app\": image \"nginx:latest\""),
        "restricted-pod-security: hostNetwork must not be true (host namespaces)",
        "restricted-pod-security: container \"app\": allowPrivilegeEscalation must be false",
        expect.stringContaining("container-resources: container \"app\" has no resources.requests.cpu"),
    ]));
});

it("knows from the dev settings which node ports are exposed", async () => {
    const service = (nodePort: number) => ({ apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "bss" }, spec: { type: "NodePort", ports: [{ port: 9094, nodePort }] } });
    expect(summary(await analyze("kubernetes:core/v1:Service", "kafka-0-external", service(30092)))).toEqual([]);
    expect(summary(await analyze("kubernetes:core/v1:Service", "extra", service(30999)))).toEqual([
        expect.stringContaining("services-exposed-only-as-configured: NodePort on nodePort 30999, which no setting asks for"),
    ]);
});

it("knows the stack's secret config values, without printing them", async () => {
    const diagnostics = await analyze("kubernetes:core/v1:ConfigMap", "leaky", {
        apiVersion: "v1", kind: "ConfigMap", metadata: { name: "leaky", namespace: "bss" }, data: { "notes.txt": `pw ${LEAK_CHECK_PASSWORD}` },
    });
    expect(summary(diagnostics)).toEqual([expect.stringContaining("configmap-holds-no-secret: data \"notes.txt\" holds the value of a secret")]);
    expect(diagnostics.map((d) => d.getMessage()).join("\n")).not.toContain(LEAK_CHECK_PASSWORD);
});

it("checks the stack's outputs once it is deployed", async () => {
    const resource = (type: string, name: string, props: Record<string, unknown>) => {
        const r = new analyzerpb.AnalyzerResource();
        r.setType(type);
        r.setName(name);
        r.setUrn(`urn:pulumi:dev::bss::${type}::${name}`);
        r.setProperties(Struct.fromJavaScript(props));
        r.setOptions(options());
        return r;
    };
    const request = new analyzerpb.AnalyzeStackRequest();
    request.setResourcesList([
        resource("random:index/randomPassword:RandomPassword", "kong-operator-password", { length: 32, result: "generatedoperatorpassword0123" }),
        resource("pulumi:pulumi:Stack", "bss-dev", { kongOperatorCredentials: { password: "generatedoperatorpassword0123" }, akhqUrl: "http://generatedoperatorpassword0123@akhq" }),
    ]);
    const response = await call<analyzerpb.AnalyzeResponse>("analyzeStack", request);
    expect(summary(response.getDiagnosticsList())).toEqual([expect.stringContaining("secrets-stay-secret: stack output \"akhqUrl\" holds a secret value in plain text")]);
    expect(response.getDiagnosticsList()[0].getUrn()).toBe("urn:pulumi:dev::bss::pulumi:pulumi:Stack::bss-dev");
});
