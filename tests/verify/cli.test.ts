/**
 * `npm run verify` end to end on this machine: the CLI reads the repository's stack files, plans its addresses,
 * reads credentials from a saved stack-outputs file, and checks Kong and AKHQ through local stand-ins (Kong and
 * AKHQ cannot run here), AKHQ through a kubectl stand-in's port-forward as it would on a cluster.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { loadSettings } from "../../settings";
import { buildKongConfig } from "../../components/kong/declarative";
import { parseArgs, verifyStack } from "../../scripts/verify/cli";
import { VerifyReport } from "../../scripts/verify/report";
import { ROOT } from "../helpers/render";
import { KongStandIn, startKongStandIn } from "./kong-stand-in";
import { AkhqStandIn, startAkhqStandIn } from "./akhq-stand-in";
import { KubectlStandIn, writeKubectlStandIn } from "./kubectl-stand-in";
import { runVerifyCli } from "./run-cli";

jest.setTimeout(60_000);

const API_KEY = "cli-frontend-key-0123456789abcdefgh";
const OPERATOR_PASSWORD = "cli-operator-password-012345";
const REDIS_PASSWORD = "cli-redis-password-0123456789";

let kong: KongStandIn;
let akhq: AkhqStandIn;
let kubectl: KubectlStandIn;
let dir: string;
let outputsFile: string;

beforeAll(async () => {
    const settings = loadSettings({ "bss:environment": "dev" }, "dev");
    kong = await startKongStandIn(buildKongConfig(settings.kong, { host: "akhq.bss.svc.cluster.local", port: 8080, contextPath: "/akhq" }, {
        apiKeys: { "bss-frontend": [API_KEY], "bss-mobile": ["cli-mobile-key-0123456789abcdefghi"], "bss-partner": ["cli-partner-key-0123456789abcdefgh"] },
        operatorPassword: OPERATOR_PASSWORD,
    }));
    akhq = await startAkhqStandIn("/akhq");
    kubectl = writeKubectlStandIn({ forwards: { "deployment/akhq": akhq.port } });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-verify-cli-"));
    outputsFile = path.join(dir, "outputs.json");
    // The shape `pulumi stack output --show-secrets --json` prints for the dev stack.
    fs.writeFileSync(outputsFile, JSON.stringify({
        redisPassword: REDIS_PASSWORD,
        kongApiKeys: { "bss-frontend": API_KEY, "bss-mobile": "x".repeat(40), "bss-partner": "y".repeat(40) },
        kongOperatorCredentials: { username: "bss-operator", password: OPERATOR_PASSWORD },
        kafkaExternalBootstrap: ["localhost:9092", "localhost:9093", "localhost:9094"],
    }));
});

afterAll(async () => {
    await kong?.close();
    await akhq?.close();
    kubectl?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
});

const runCli = runVerifyCli;

const standInArgs = () => ["--stack", "dev", "--only", "kong,akhq", "--kong-proxy", kong.url, "--kubectl", kubectl.command, "--outputs-file", outputsFile];

describe("verify command line", () => {
    it("parses defaults and flags", () => {
        const options = parseArgs(["--stack", "prod", "--json", "--only", "redis,kafka", "--timeout-ms", "2500", "--kafka-bootstrap", "a:1, b:2"]);
        expect(options).toMatchObject({
            stack: "prod", json: true, strict: false, areas: ["kafka", "redis"], timeoutMs: 2500, kubectl: "kubectl",
            configFile: path.join(ROOT, "Pulumi.prod.yaml"), overrides: { kafkaBootstrap: ["a:1", "b:2"] },
        });
        expect(parseArgs(["--stack", "dev"]).areas).toEqual(["kafka", "redis", "kong", "akhq"]);
    });

    it.each([
        [[], "--stack is required"],
        [["--stack"], "--stack needs a value"],
        [["--stack", "dev", "--frobnicate"], 'unknown argument "--frobnicate"'],
        [["--stack", "dev", "--only", "kafka,zookeeper"], 'got "kafka,zookeeper"'],
        [["--stack", "dev", "--timeout-ms", "soon"], '--timeout-ms must be an integer from 100 to 600000, got "soon"'],
    ])("refuses %j", (argv, message) => {
        expect(() => parseArgs(argv as string[])).toThrow(message);
    });

    it("checks Kong and AKHQ (stand-ins) with credentials from a saved outputs file, AKHQ through kubectl port-forward on the stack's context", async () => {
        const report = await verifyStack(parseArgs(standInArgs()));
        expect(report.checks.filter((c) => c.status !== "ok")).toEqual([]);
        expect(report.checks.find((c) => c.area === "akhq" && c.check === "address")!.detail).toBe("kubectl port-forward deployment/akhq 28081 (AKHQ's management port is in no Service)");
        expect(kubectl.calls()).toContainEqual(["--context", "kind-bss", "--namespace", "bss", "port-forward", "--address", "127.0.0.1", "deployment/akhq", "0:28081"]);
        expect(akhq.paths).toContain("/akhq/health");
    });

    it("exits 0 with a table for a healthy run, and never prints a credential", async () => {
        const { code, stdout, stderr } = await runCli(standInArgs());
        expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
        expect(stdout).toMatch(/^AREA\s+CHECK\s+STATUS\s+DETAIL\n/);
        expect(stdout).toMatch(/^kong\s+route \/api auth\s+ok\s+401 without a credential, 503 with the API key$/m);
        expect(stdout).toContain("stack dev: healthy");
        for (const secret of [API_KEY, OPERATOR_PASSWORD, REDIS_PASSWORD]) {
            expect(stdout).not.toContain(secret);
        }
    });

    it("exits 1 with --json when AKHQ is DOWN, the failing row in the JSON", async () => {
        akhq.health = "DOWN";
        try {
            const { code, stdout } = await runCli([...standInArgs(), "--json"]);
            expect(code).toBe(1);
            const report = JSON.parse(stdout) as VerifyReport;
            expect(report.ok).toBe(false);
            expect(report.checks.find((c) => c.area === "akhq" && c.check === "health")).toMatchObject({ status: "fail", detail: '/akhq/health answered 503 with status "DOWN"' });
        } finally {
            akhq.health = "UP";
        }
    });

    it("exits 2 naming every problem when the stack settings are invalid, before reaching anything", async () => {
        const bad = path.join(dir, "Pulumi.bad.yaml");
        fs.writeFileSync(bad, "config:\n  bss:kafka:\n    brokers: three\n  bss:redis:\n    masters: 2\n");
        const { code, stderr, stdout } = await runCli(["--stack", "bad", "--config-file", bad, "--kubectl", kubectl.command]);
        expect(code).toBe(2);
        expect(stdout).toBe("");
        expect(stderr).toContain("Invalid stack configuration (2 problems)");
        expect(stderr).toContain('bss:kafka.brokers must be an integer from 1 to 50, got "three"');
    });

    it("reports, rather than hangs on, a stack whose every address accepts and never answers", async () => {
        const sockets: net.Socket[] = [];
        const silent = net.createServer((s) => sockets.push(s));
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        const at = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
        try {
            const report = await verifyStack(parseArgs([
                "--stack", "dev", "--timeout-ms", "500", "--outputs-file", outputsFile, "--kubectl", kubectl.command,
                "--kafka-bootstrap", at, "--redis-address", at, "--kong-proxy", `http://${at}`, "--akhq-url", `http://${at}`,
            ]));
            const statuses = new Map(report.checks.filter((c) => c.check !== "address" && c.area !== "stack").map((c) => [`${c.area} ${c.check}`, c.status]));
            expect(new Set(statuses.values())).toEqual(new Set(["unreachable"]));
            expect(report.ok).toBe(false);
            expect(report.checks.find((c) => c.area === "redis" && c.check === "cluster state")!.detail).toBe(`${at}: no answer from Redis at ${at} within 500 ms`);
        } finally {
            sockets.forEach((s) => s.destroy());
            silent.close();
        }
    });
});
