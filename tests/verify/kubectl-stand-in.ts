/**
 * A stand-in for the `kubectl` executable, only to test how `verify` uses kubectl (scripts/verify/kubectl.ts):
 * no cluster is reachable from the tests. It answers the three calls verify makes from fixed data:
 * `get pods --output json` (pod name, IP and node), `get service NAME --output json` (a load balancer's
 * address) and `port-forward --address 127.0.0.1 RESOURCE 0:PORT`, which prints kubectl's "Forwarding from"
 * line with a port the test chose (a local stand-in server) and then waits to be stopped, as kubectl does.
 * Every invocation's arguments are appended to a log the test can read.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface KubectlStandInData {
    /** Pods `get pods` lists. */
    pods?: { name: string; ip: string; node: string }[];
    /** Service name → its load balancer ingress (ip or hostname). */
    loadBalancers?: Record<string, { ip?: string; hostname?: string }>;
    /** `RESOURCE` (e.g. `deployment/akhq`) → the local port the forward reports. */
    forwards?: Record<string, number>;
}

export interface KubectlStandIn {
    /** Path of the executable, for `--kubectl`. */
    command: string;
    /** Each invocation's argv (without the executable). */
    calls(): string[][];
    remove(): void;
}

export function writeKubectlStandIn(data: KubectlStandInData): KubectlStandIn {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-kubectl-stand-in-"));
    const log = path.join(dir, "calls.jsonl");
    const command = path.join(dir, "kubectl");
    const script = `#!${process.execPath}
const fs = require("fs");
const data = ${JSON.stringify(data)};
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + "\\n");
const rest = args.filter((a, i) => !["--context", "--namespace"].includes(a) && !["--context", "--namespace"].includes(args[i - 1]));
if (rest[0] === "get" && rest[1] === "pods") {
    const items = (data.pods || []).map((p) => ({ metadata: { name: p.name }, spec: { nodeName: p.node }, status: { podIP: p.ip } }));
    process.stdout.write(JSON.stringify({ kind: "List", items }));
} else if (rest[0] === "get" && rest[1] === "service") {
    const ingress = (data.loadBalancers || {})[rest[2]];
    if (!ingress) { process.stderr.write('Error from server (NotFound): services "' + rest[2] + '" not found\\n'); process.exit(1); }
    process.stdout.write(JSON.stringify({ status: { loadBalancer: { ingress: [ingress] } } }));
} else if (rest[0] === "port-forward") {
    const resource = rest[rest.length - 2];
    const remote = rest[rest.length - 1].split(":")[1];
    const port = (data.forwards || {})[resource];
    if (port === undefined) { process.stderr.write('error: ' + resource + ' not found\\n'); process.exit(1); }
    process.stdout.write("Forwarding from 127.0.0.1:" + port + " -> " + remote + "\\n");
    setInterval(() => undefined, 1000);
    process.on("SIGTERM", () => process.exit(0));
} else {
    process.stderr.write("kubectl stand-in: unexpected call " + JSON.stringify(args) + "\\n");
    process.exit(2);
}
`;
    fs.writeFileSync(command, script, { mode: 0o755 });
    return {
        command,
        calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]) : []),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}
